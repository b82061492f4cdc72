"""The collector contract: a small param class per source.

``fetch()`` does every bit of I/O and returns the raw payload as bytes (archived by the runner);
``parse(payload)`` is pure, so archived payloads can be re-parsed later and tests need no network.
Collector types are found through the ``hfpanel.collectors`` entry-point group, so a site can ship
its own in another distribution.
"""

from __future__ import annotations

import time as _time

import dataclasses
import functools
import importlib
from importlib.metadata import EntryPoint, entry_points
from typing import ClassVar

import pandas as pd
import param

ENTRY_POINT_GROUP = "hfpanel.collectors"


class SourceError(Exception):
    """A source failed; ``str(error)`` is the one-line reason a shifter reads."""


@dataclasses.dataclass
class ParseResult:
    """What a collector makes of one payload: detail tables and named numeric metrics."""

    tables: dict[str, pd.DataFrame] = dataclasses.field(default_factory=dict)
    metrics: dict[str, float] = dataclasses.field(default_factory=dict)
    message: str = ""


class Collector(param.Parameterized):
    """Base class of every collector. Subclasses declare their parameters with ``param``."""

    timeout = param.Number(default=30.0, bounds=(0, None), doc="Seconds before the source counts as failed.")
    max_bytes = param.Integer(default=50_000_000, bounds=(1, None), doc="Largest payload accepted, in bytes.")

    #: rating used when the module config gives none (None: fine whenever data parses)
    default_rating: ClassVar[dict | None] = None
    #: what a shifter should do when the module is not green, used when the config gives none
    default_instruction: ClassVar[str] = ""
    #: file suffix of the archived payload, for people who export it
    payload_suffix: ClassVar[str] = "bin"

    #: the time of the run this collector serves (epoch seconds; set by the runner, None: now)
    run_time: float | None = None

    def now(self) -> float:
        """The run's time: a backfill or a replay asks "as of then", not as of the wall clock
        (collectors whose source is the store itself window by it)."""
        return self.run_time if self.run_time is not None else _time.time()

    def fetch(self) -> bytes:
        raise NotImplementedError(f"{type(self).__name__} must implement fetch()")

    def parse(self, payload: bytes) -> ParseResult:
        raise NotImplementedError(f"{type(self).__name__} must implement parse()")

    def deadline(self) -> float:
        """Seconds the runner waits for fetch + parse before giving the module up; collectors that
        retry stretch it to cover every attempt."""
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
            raise KeyError(f"unknown collector type {type_name!r} (known: {known}; "
                           "or name a class as package.module:ClassName)")
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
