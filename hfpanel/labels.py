"""Labels a collector provides: what one answer is about, for notification rules to match.

A module's labels come from three places, later ones winning on a clash:

1. the rated rows' names: a table rating (``weakest_link``, ``fraction``) that names its rows by a
   column (``label: host``) gives ``{host: <the rows not fine>}`` — so every generic collector
   provides labels without code;
2. the collector's own ``ParseResult.labels`` (SAM's failing flavours and hosts, dCache's bad pools);
3. the module's ``labels:`` in site.yaml (the admin's word: ``team: storage``) — see
   ``hfpanel.events.incidents.Notifier.module_labels``, which adds site/category/module/level/kind.

Values are strings, as Alertmanager's are: several values are one sorted, comma-separated string
(``"ce01.example.org,ce02.example.org"``), and a rule's pattern matches such a label when it
matches the whole value or any one of its parts (:func:`label_matches`). They are stored with each
``module_status`` row (column ``labels``, a JSON object, "" for none), so replay, the API and the
events log see the labels each run had.
"""

from __future__ import annotations

import fnmatch
import json

#: keys hfpanel itself sets on every alert; a collector's label of the same name is dropped
RESERVED = frozenset({"site", "category", "module", "collector", "level", "kind"})
#: one label's value is cut to this many parts (a thousand bad pools are not a label)
MAX_VALUES = 20


def _text(value) -> str:
    if isinstance(value, (list, tuple, set, frozenset)):
        parts = sorted({str(v).strip() for v in value if v is not None and str(v).strip()})
        return ",".join(parts[:MAX_VALUES])
    return "" if value is None else str(value).strip()


def normalise(labels: dict | None) -> dict[str, str]:
    """Labels as stored and matched: string keys and values, reserved and empty ones dropped."""
    out = {}
    for key, value in (labels or {}).items():
        key = str(key).strip()
        text = _text(value)
        if key and key not in RESERVED and text:
            out[key] = text
    return dict(sorted(out.items()))


def result_labels(rule: dict | None, result, rating_inputs: dict | None) -> dict[str, str]:
    """The labels of one rated answer: the rated rows' names under the rule's ``label`` column,
    then the collector's own."""
    labels = {}
    column = (rule or {}).get("label")
    bad = (rating_inputs or {}).get("bad_rows")
    if isinstance(column, str) and bad:
        labels[column] = [b for b in bad if not str(b).startswith("row ")]  # unnamed rows are no label
    if result is not None:
        labels.update(result.labels or {})
    return normalise(labels)


def to_json(labels: dict) -> str:
    return json.dumps(labels, sort_keys=True) if labels else ""


def from_json(text) -> dict[str, str]:
    """A stored ``labels`` cell back (an old store's rows have none: NULL or "")."""
    if not isinstance(text, str) or not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return normalise(value) if isinstance(value, dict) else {}


def label_matches(value, pattern: str) -> bool:
    """``pattern`` (fnmatch) matches the whole value or one of its comma-separated parts."""
    value = str(value)
    if fnmatch.fnmatchcase(value, pattern):
        return True
    return "," in value and any(fnmatch.fnmatchcase(part, pattern) for part in value.split(","))
