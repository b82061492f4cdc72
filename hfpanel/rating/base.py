"""What every rating type and roll-up shares: the result, the registries and the explaining words.

A *rating type* (``threshold``, ``weakest_link``…) is one small class in its own file of this
package: it validates its rule's keys, evaluates a ``ParseResult`` into a ``Rating``, and explains
itself — the rule in a sentence, the sentence naming the input that decided, and the inputs a
shifter wants to see. The config check, the runner, "why this colour", events and the API all ask
the same class, so adding a type is adding one file here. Roll-ups (``worst``, ``weighted``,
``k_of_n``) are the same for categories.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import pandas as pd

from ..collector import ParseResult, SourceError
from ..levels import NOINFO_STATUS, Levels
from ..units import format_number

#: rating types and roll-ups by name, filled by ``register`` as the package's files are imported
RATING_TYPES: dict[str, RatingType] = {}
ROLLUP_TYPES: dict[str, RollupType] = {}
#: at most this many failing rows are named in a sentence
NAMED_ROWS = 8


@dataclasses.dataclass
class Rating:
    """A status (0.0 critical … 1.0 fine, -1 no information), the message that says why, and the
    inputs that decided (for "why this colour")."""

    status: float
    message: str
    inputs: dict = dataclasses.field(default_factory=dict)


def register(cls):
    """Class decorator: make a rating type or roll-up known by its ``name``."""
    registry = ROLLUP_TYPES if issubclass(cls, RollupType) else RATING_TYPES
    registry[cls.name] = cls()
    return cls


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def band(value: float, warning: float, critical: float, above: bool) -> float:
    """1.0 inside the good side, 0.5 past the warning bound, 0.0 past the critical bound."""
    bad = (lambda v, bound: v >= bound) if above else (lambda v, bound: v <= bound)
    if bad(value, critical):
        return 0.0
    if bad(value, warning):
        return 0.5
    return 1.0


def num(value) -> str:
    return format_number(float(value)) if value is not None else "—"


def status_text(value) -> str:
    """A status as the shifter reads it: 0.0, 0.5, 1.0, 0.93; -1 is no information."""
    if value is None or pd.isna(value):
        return "—"
    value = float(value)
    if value < 0:
        return "-1 (no information)"
    return f"{value:.1f}" if round(value, 1) == value else f"{value:.2f}"


def level_reason(levels: Levels, status) -> str:
    """Why a status has its level, e.g. "critical below 0.33"."""
    if status is None or pd.isna(status) or status < 0:
        return "-1 means no information"
    if status >= levels.ok:
        return f"ok from {levels.ok:g}"
    if status >= levels.warning:
        return f"warning from {levels.warning:g} to below {levels.ok:g}"
    return f"critical below {levels.warning:g}"


def verdict(rating: Rating, levels: Levels) -> str:
    """ "CRITICAL — critical below 0.33": the level a status gives and why."""
    return f"{levels.level(rating.status).upper()} — {level_reason(levels, rating.status)}"


def modules(count: int) -> str:
    """ "1 module with information", "3 modules with information" — what a roll-up's value rests on."""
    return f"{count} module{'s' if count != 1 else ''} with information"


def named(rows: list, limit: int = NAMED_ROWS) -> str:
    """Row names for a sentence: the first ``limit``, then "and N more"."""
    return ", ".join(map(str, rows[:limit])) + (f" and {len(rows) - limit} more" if len(rows) > limit else "")


class RatingType:
    """One kind of module rating. Subclasses set ``name``, ``required``/``optional`` keys and
    implement ``evaluate``, ``describe`` and ``decision``; ``inputs`` and ``check`` have defaults."""

    name: ClassVar[str] = ""
    required: ClassVar[frozenset] = frozenset()
    optional: ClassVar[frozenset] = frozenset()
    #: True when the source's own message is the rating's message (else it is appended after "; ")
    own_message: ClassVar[bool] = False

    # -- validating ------------------------------------------------------------------------------
    def check(self, rule: dict) -> list[str]:
        """Problems with ``rule`` as "key 'rating.x': what is wrong" (empty when fine)."""
        problems = [
            f"key 'rating.{key}': missing (required by {self.name} rating)" for key in sorted(self.required - set(rule))
        ]
        problems += [
            f"key 'rating.{key}': unknown for a {self.name} rating"
            for key in sorted(set(rule) - self.required - self.optional - {"type"})
        ]
        return problems + self.check_values(rule)

    def check_values(self, rule: dict) -> list[str]:
        return []

    # -- evaluating ------------------------------------------------------------------------------
    def evaluate(self, rule: dict, result: ParseResult) -> Rating:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- explaining ------------------------------------------------------------------------------
    def describe(self, rule: dict) -> str:  # pragma: no cover - abstract
        """The rule in one sentence (without a final full stop)."""
        raise NotImplementedError

    def decision(self, rule: dict, rating: Rating, levels: Levels) -> str:  # pragma: no cover - abstract
        """The sentence naming the input that decided, ending with the level it gives."""
        raise NotImplementedError

    def inputs(self, rule: dict, result: ParseResult) -> pd.DataFrame:
        """The inputs a shifter wants to see, deciding ones first (default: the metrics)."""
        return pd.DataFrame({"metric": list(result.metrics), "value": [float(v) for v in result.metrics.values()]})

    def prepare(self, rule: dict, result: ParseResult) -> ParseResult:
        """``result`` as stored data gives it back, made ready for ``evaluate`` (e.g. a column the
        store dropped because it was all empty). Default: unchanged."""
        return result


class RollupType:
    """One kind of category roll-up over the statuses of the modules that have information."""

    name: ClassVar[str] = ""
    optional: ClassVar[frozenset] = frozenset()

    def check(self, rule: dict, module_count: int) -> list[str]:
        return []

    def evaluate(self, rule: dict, statuses: list[float], weights: list[float]) -> tuple[float, str]:
        """(status, message) from the known statuses (never empty) and their weights."""
        raise NotImplementedError  # pragma: no cover - abstract

    def describe(self, rule: dict) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def required_known(self, rule: dict) -> int:
        """How many modules must have information for the roll-up to mean anything."""
        return 1


def rated_table(rule: dict, result: ParseResult) -> pd.DataFrame:
    """The table a row rule reads, with its column checked (SourceError naming what is missing)."""
    name = rule.get("table", "rows")
    if name not in result.tables:
        raise SourceError(f"table {name!r} missing from the data")
    table = result.tables[name]
    column = rule["column"]
    if column not in table.columns:
        raise SourceError(f"column {column!r} missing from table {name!r} (have: {', '.join(map(str, table.columns))})")
    return table


def row_label(row: pd.Series, label) -> str:
    if label and label in row.index:
        return str(row[label])
    return f"row {row.name}"


def with_rated_column(rule: dict, result: ParseResult) -> ParseResult:
    """Stored detail tables drop all-empty columns: put the rated column back (as empty) so a row
    rule explains "no row has a value" instead of "column missing"."""
    name = rule.get("table", "rows")
    table = result.tables.get(name, pd.DataFrame())
    if rule["column"] not in table.columns:
        table = table.assign(**{rule["column"]: pd.Series([None] * len(table), dtype=object)})
    return dataclasses.replace(result, tables={**result.tables, name: table})


def metric_inputs(rule: dict, result: ParseResult) -> pd.DataFrame:
    """The metrics, the rule's own metric first and marked as deciding."""
    frame = RatingType.inputs(None, rule, result)
    if not frame.empty:
        frame.insert(0, "decides", frame["metric"] == rule["metric"])
        frame = frame.sort_values("decides", ascending=False, kind="stable").reset_index(drop=True)
    return frame


def missing_metric(name: str, result: ParseResult) -> str:
    return f"metric {name!r} missing from the data (have: {', '.join(sorted(result.metrics)) or 'none'})"


NOINFO = NOINFO_STATUS
