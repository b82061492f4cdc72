"""Status floats and the levels people read.

HappyFace's convention: a status is a float from 0.0 (critical) to 1.0 (fine), and -1 means
"no information" (the source failed or could not be parsed). Levels are bands of that float.
"""

from __future__ import annotations

import dataclasses
import math

OK, WARNING, CRITICAL, NOINFO = "ok", "warning", "critical", "noinfo"
#: not a band of the status: a module whose trouble lies on hosts in an announced GOCDB outage
#: shows "downtime" instead of warning/critical/noinfo (as CMS Site Readiness treats downtimes)
DOWNTIME = "downtime"
LEVELS = (OK, WARNING, CRITICAL, NOINFO, DOWNTIME)
#: severity order for sorting: worst first
SEVERITY = {CRITICAL: 0, NOINFO: 1, WARNING: 2, DOWNTIME: 3, OK: 4}
NOINFO_STATUS = -1.0
#: each level's colour, the same in the app, the plots and the PDF reports
COLORS = {OK: "#188038", WARNING: "#f9ab00", CRITICAL: "#c5221f", NOINFO: "#5f6368", DOWNTIME: "#1a73e8"}


@dataclasses.dataclass(frozen=True)
class Levels:
    """Boundaries of the bands: status >= ok is ok, >= warning is warning, else critical."""

    ok: float = 0.66
    warning: float = 0.33

    def __post_init__(self):
        if not (0.0 <= self.warning <= self.ok <= 1.0):
            raise ValueError(f"levels must satisfy 0 <= warning ({self.warning}) <= ok ({self.ok}) <= 1")

    def level(self, status: float | None) -> str:
        if status is None or (isinstance(status, float) and math.isnan(status)) or status < 0:
            return NOINFO
        if status >= self.ok:
            return OK
        if status >= self.warning:
            return WARNING
        return CRITICAL


DEFAULT_LEVELS = Levels()
