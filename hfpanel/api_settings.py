"""The ``api:`` section of site.yaml: where the API keeps its state and how much a push may be.

api:
  state: /var/lib/hfpanel/api   # tokens.json and push.sqlite (default: <store>/_api)
  push_max_body: 64k            # larger push bodies are refused with 413
  push_rate: 60                 # pushes per minute per token (429 beyond)
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

KEYS = {
    "state": "The folder of the API's tokens and push spool (default: <store>/_api).",
    "push_max_body": "Largest push body, e.g. 64k or 1m (413 beyond). Default 64k.",
    "push_rate": "Pushes per minute per token (429 beyond). Default 60.",
}
SIZE = re.compile(r"^\s*(\d+)\s*([kKmM]?)\s*$")


@dataclasses.dataclass(frozen=True)
class ApiSettings:
    state: Path | None = None
    push_max_body: int = 64 * 1024
    push_rate: float = 60.0

    def state_folder(self, store) -> Path:
        return self.state if self.state is not None else Path(store) / "_api"


def size(value) -> int:
    found = SIZE.match(str(value))
    if not found:
        raise ValueError(f"not a size: {value!r} (e.g. 64k, 1m or a number of bytes)")
    return int(found.group(1)) * {"": 1, "k": 1024, "m": 1024 * 1024}[found.group(2).lower()]


def parse_api(raw, base: Path | None, problems: list[str]) -> ApiSettings:
    """The section's settings; each mistake appended to ``problems`` as ``key 'api.x': …``."""
    if raw is None:
        return ApiSettings()
    if not isinstance(raw, dict):
        problems.append("key 'api': must be a mapping")
        return ApiSettings()
    values = {}
    for key in sorted(set(raw) - set(KEYS)):
        problems.append(f"key 'api.{key}': unknown (known: {', '.join(KEYS)})")
    if raw.get("state"):
        state = Path(str(raw["state"])).expanduser()
        values["state"] = (base / state).resolve() if base is not None and not state.is_absolute() else state
    if "push_max_body" in raw:
        try:
            values["push_max_body"] = size(raw["push_max_body"])
        except ValueError as error:
            problems.append(f"key 'api.push_max_body': {error}")
    if "push_rate" in raw:
        rate = raw["push_rate"]
        if not isinstance(rate, (int, float)) or isinstance(rate, bool) or rate <= 0:
            problems.append(f"key 'api.push_rate': must be a positive number of pushes per minute, got {rate!r}")
        else:
            values["push_rate"] = float(rate)
    return ApiSettings(**values)
