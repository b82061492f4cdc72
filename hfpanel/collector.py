"""The collector contract: a small param class per source.

``fetch()`` does every bit of I/O and returns the raw payload as bytes (archived by the runner);
``parse(payload)`` is pure, so archived payloads can be re-parsed later and tests need no network.
Collector types are found through the ``hfpanel.collectors`` entry-point group, so a site can ship
its own in another distribution.

Time: ``timeout`` is the module's whole budget. Every ``fetch()`` runs inside one :class:`Budget`
(``self.budget()``), which every request of that fetch shares -- a login and a listing, pages, one
request per pool, retries and the waits between them -- so a module configured with ``timeout: 5s``
gives up after 5 s, whatever it does. "Now" is ``self.now()``: the run's time, never the wall clock
read anywhere else (:mod:`hfpanel.clock` is the one clock).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import importlib
import time
from importlib.metadata import EntryPoint, entry_points
from typing import ClassVar

import pandas as pd
import param

from .clock import utcnow
from .units import plural

ENTRY_POINT_GROUP = "hfpanel.collectors"


class SourceError(Exception):
    """A source failed; ``str(error)`` is the one-line reason a shifter reads.

    The module then has no information, unless ``status`` says otherwise: a source silent past a
    configured age is itself the problem (``push``: critical after ``critical_after``)."""

    def __init__(self, message: str = "", status: float | None = None):
        super().__init__(" ".join(str(message).split()) if "\n" in str(message) or "\r" in str(message) else message)
        self.status = status


@contextlib.contextmanager
def snapshot(what: str):
    """Around the ``parse`` of a payload hfpanel's own ``fetch`` made (a JSON snapshot of the store):
    a payload that is not one — a damaged archive replayed — is a ``SourceError`` naming it, not
    an "internal error" with a traceback."""
    try:
        yield
    except (ValueError, KeyError, TypeError, AttributeError, IndexError) as error:
        raise SourceError(f"not a {what} snapshot ({type(error).__name__}: {error})") from None


@dataclasses.dataclass(frozen=True)
class Missing:
    """One part of a source's answer that did not arrive or could not be read: a pool whose request
    failed, a malformed row, a search shard that failed. ``what`` names the kind of part in the
    singular ("pool", "row", "shard"), ``key`` which one, ``reason`` why (one line)."""

    what: str
    key: str
    reason: str

    def as_dict(self) -> dict:
        return {"what": self.what, "key": self.key, "reason": self.reason}


@dataclasses.dataclass
class ParseResult:
    """What a collector makes of one payload: detail tables and named numeric metrics -- and, when
    only part of the answer arrived, what is missing.

    A collector rates what arrived and says exactly what did not: ``missing`` lists the parts
    (:class:`Missing`), ``expected`` says how many parts of each kind there were in all (``{"pool":
    40}``; a kind without a count has an unknown share, e.g. a search that timed out on the server).
    The rating decides what that means (:mod:`hfpanel.rating.partial`): the same for every collector."""

    tables: dict[str, pd.DataFrame] = dataclasses.field(default_factory=dict)
    metrics: dict[str, float] = dataclasses.field(default_factory=dict)
    message: str = ""
    missing: list[Missing] = dataclasses.field(default_factory=list)
    expected: dict[str, int] = dataclasses.field(default_factory=dict)
    #: what this answer is about, for notification rules to match (``{"flavour": ["ARC-CE"], "host":
    #: ["ce01.example.org"]}``): facts of this run, usually the parts that are not fine. A list is
    #: one label with several values (hfpanel.labels)
    labels: dict[str, str | list[str]] = dataclasses.field(default_factory=dict)

    def with_missing(self, missing: list[Missing], expected: dict[str, int] | None = None) -> ParseResult:
        """This result with ``missing`` parts added (and their kinds' counts); returns ``self``."""
        self.missing = [*self.missing, *missing]
        for what, count in (expected or {}).items():
            self.expected[what] = self.expected.get(what, 0) + int(count)
        return self


def each(items, read, what: str, key=None) -> tuple[list, list[Missing]]:
    """``read(item)`` for every item; an item whose reading raises :class:`SourceError` becomes a
    :class:`Missing` (``key(index, item)`` names it, default its position) instead of failing the whole
    answer. When every item fails nothing arrived: that is the source failing, a ``SourceError`` with
    the first reason (and how many more failed)."""
    out, missing = [], []
    for index, item in enumerate(items):
        try:
            out.append(read(item))
        except SourceError as error:
            missing.append(Missing(what, str(key(index, item) if key else index), str(error)))
    if missing and not out:
        first = missing[0].reason
        raise SourceError(
            first
            if len(missing) == 1
            else f"{first} (and {len(missing) - 1} more {plural(len(missing) - 1, what)} failed)"
        )
    return out, missing


class Budget:
    """The time one fetch may take: every request of it asks ``left()`` and none starts when it is spent.

    Monotonic, so a clock step (NTP) neither stretches nor cuts it; ``str(budget)`` is the configured
    timeout as reasons show it ("5s"), the same for the same fault however the time was spent."""

    def __init__(self, seconds: float):
        self.seconds = max(0.0, float(seconds))
        self.started = time.monotonic()
        self.ends = self.started + self.seconds

    def left(self) -> float:
        return max(0.0, self.ends - time.monotonic())

    def spent(self) -> float:
        return time.monotonic() - self.started

    def expired(self) -> bool:
        return self.left() <= 0.0

    def __str__(self) -> str:
        return f"{self.seconds:g}s"

    def __repr__(self) -> str:
        return f"<Budget {self} ({self.left():.2f}s left)>"


def _within_budget(fetch):
    """``fetch`` running in one fresh :class:`Budget`; a nested call (``super().fetch()``) shares it."""

    @functools.wraps(fetch)
    def budgeted(self):
        if self._budget is not None:
            return fetch(self)
        self._budget = Budget(self.timeout)
        try:
            return fetch(self)
        finally:
            self._budget = None

    budgeted.within_budget = True
    return budgeted


class Collector(param.Parameterized):
    """Base class of every collector. Subclasses declare their parameters with ``param``.

    Every subclass's ``fetch`` is wrapped so that it runs in one :class:`Budget` of ``timeout``
    seconds (see ``budget()``): a site's own collector gets the same limit without writing it."""

    timeout = param.Number(
        default=30.0,
        bounds=(0, None),
        doc=(
            "The whole time budget of one fetch in seconds, every request, retry and wait included (the module's "
            "timeout: sets it)."
        ),
    )
    max_bytes = param.Integer(default=50_000_000, bounds=(1, None), doc="Largest payload accepted, in bytes.")

    #: rating used when the module config gives none (None: fine whenever data parses)
    default_rating: ClassVar[dict | None] = None
    #: what a shifter should do when the module is not green, used when the config gives none
    default_instruction: ClassVar[str] = ""
    #: file suffix of the archived payload, for people who export it
    payload_suffix: ClassVar[str] = "bin"
    #: detail tables whose rows are watched for appearing/vanishing (events), by their key columns:
    #: e.g. ``{"pools": ["pool"]}``; a site's ``notifications.events.rows`` may add or override
    event_keys: ClassVar[dict[str, list[str]]] = {}
    #: reads what a transfer aggregation writes: its modules also run right after each aggregation
    #: (hfpanel.transfer_runs), so a failing link is an event minutes after the data, not an interval
    follows_transfers: ClassVar[bool] = False
    #: what an answer with parts missing means when the config gives no ``partial:`` (None: the
    #: built-in policy, see :mod:`hfpanel.rating.partial`), e.g. ``{"level": "warning", "noinfo_above": 0.5}``
    default_partial: ClassVar[dict | str | None] = None

    #: the time of the run this collector serves (epoch seconds; set by the runner, None: now)
    run_time: float | None = None
    #: the budget of the fetch in progress (None between fetches)
    _budget: Budget | None = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        fetch = cls.__dict__.get("fetch")
        if fetch is not None and not getattr(fetch, "within_budget", False):
            cls.fetch = _within_budget(fetch)

    def now(self, default: float | None = None) -> float:
        """The run's time in epoch seconds: a backfill, a replay or a test asks "as of then", not as
        of the wall clock. Outside a run: ``default`` when given (a payload's own time, so that
        parsing an archived payload stays pure), else the one clock (:func:`hfpanel.clock.utcnow`)."""
        if self.run_time is not None:
            return float(self.run_time)
        return float(default) if default is not None else utcnow().timestamp()

    def budget(self) -> Budget:
        """The time left for the fetch in progress, shared by all its requests (a fresh budget of
        ``timeout`` when called outside ``fetch()``)."""
        return self._budget if self._budget is not None else Budget(self.timeout)

    def fetch(self) -> bytes:
        raise NotImplementedError(f"{type(self).__name__} must implement fetch()")

    def parse(self, payload: bytes) -> ParseResult:
        raise NotImplementedError(f"{type(self).__name__} must implement parse()")

    def deadline(self) -> float:
        """Seconds the runner waits for fetch + parse before giving the module up: the budget and
        a second for parsing. Only a collector whose I/O ignores ``budget()`` ever meets it."""
        return self.timeout + 1.0

    def source_url(self) -> str | None:
        """The link to the source shown next to the module; collectors with a URL return it."""
        return getattr(self, "url", None) or None

    @classmethod
    def parameter_names(cls) -> list[str]:
        return [name for name in cls.param if name != "name"]


@functools.lru_cache(maxsize=1)
def registry() -> dict[str, EntryPoint]:
    """Collector entry points by type name (loaded lazily by ``collector_class``)."""
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


_registered: dict[str, type[Collector]] = {}


def register(type_name: str, cls: type[Collector]) -> None:
    """Register a collector type in-process (notebooks, tests); packages use entry points."""
    _registered[type_name] = cls


def collector_class(type_name: str) -> type[Collector]:
    """The collector class of a type name: registered in-process, an entry point of an installed
    package, or a dotted path ``package.module:ClassName`` (a site's own collector, importable from
    the Python path, without packaging an entry point)."""
    if type_name in _registered:
        return _registered[type_name]
    if ":" in type_name:
        cls = _by_dotted_path(type_name)
    else:
        entry = registry().get(type_name)
        if entry is None:
            known = ", ".join(sorted({*registry(), *_registered})) or "none installed"
            raise KeyError(
                f"unknown collector type {type_name!r} (known: {known}; or name a class as package.module:ClassName)"
            )
        cls = entry.load()
    if not (isinstance(cls, type) and issubclass(cls, Collector)):
        raise TypeError(f"{type_name!r} does not name a Collector subclass")
    return cls


def _by_dotted_path(path: str):
    module_name, _, attribute = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ImportError(f"cannot import {module_name!r} for collector {path!r}: {error}") from None
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise KeyError(f"module {module_name!r} has no {attribute!r} (collector {path!r})") from None
