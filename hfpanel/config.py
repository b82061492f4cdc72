"""The site configuration: one YAML file, validated with messages that name file, module and key.

Every mistake is collected (not just the first) so one ``hfpanel config check`` shows them all.

The schema is declared, not coded: ``SECTIONS`` maps each top-level key to the function that reads
it (a new section such as ``retention:`` is one function and one line there), and ``SITE_KEYS``,
``CATEGORY_KEYS``, ``MODULE_KEYS`` and ``DEFAULT_KEYS`` declare every key of a mapping with how its
value is read, its default and what it means (``hfpanel.reference`` documents them from there). What
only code can check -- names unique, a module's category defined, its collector's parameters --
is a small step of its own. Ratings and roll-ups check themselves (:mod:`hfpanel.rating`), and a
collector's parameters are its own ``param`` declarations.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from .api_settings import ApiSettings, parse_api
from .auth.settings import AuthSettings, parse_auth
from .availability.profiles import parse_profiles
from .collector import Collector, collector_class
from .config_error import ConfigError
from .durations import parse_duration
from .events.config import Notifications, parse_notifications
from .levels import Levels
from .rating import PartialPolicy, check_rating, check_rollup
from .store.retention import Retention, parse_retention
from .transfers.config import parse_transfers

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
#: a module's interval, timeout and max_age when neither it nor the site's ``defaults:`` give one
DEFAULTS = {"interval": "15m", "timeout": "30s", "max_age": "1h"}
#: a module is due when this little (seconds) before its interval has passed (cron jitter); the
#: runner decides with it and the history questions ("was a run missed?") answer with it
DUE_SLACK = 60.0


@dataclasses.dataclass
class Category:
    name: str
    title: str
    rollup: dict
    #: what the category covers, in a sentence or two (for the page and the API; may be empty)
    description: str = ""


@dataclasses.dataclass
class Module:
    name: str
    title: str
    category: str
    collector: str
    params: dict
    interval: float
    timeout: float
    max_age: float
    weight: float = 1.0
    rating: dict | None = None
    instruction: str = ""
    links: list = dataclasses.field(default_factory=list)
    #: hosts this module watches: when one is in a GOCDB outage the module shows "downtime"
    hosts: list = dataclasses.field(default_factory=list)
    #: what an answer with parts missing means (the module's ``partial:``, else the site's default)
    partial: dict | str | None = None
    #: labels notification rules may match on (e.g. {team: storage}), besides site/category/module
    labels: dict = dataclasses.field(default_factory=dict)

    def effective_rating(self, collector: Collector | None = None) -> dict | None:
        """The rule that rates this module: the config's ``rating``, else its collector's default
        (which may depend on the parameters, so it is asked of an instance)."""
        if self.rating:
            return dict(self.rating)
        rule = (collector or self.make_collector()).default_rating
        return dict(rule) if rule else None

    def effective_partial(self, collector: Collector | None = None) -> PartialPolicy:
        """What a partial answer means for this module: the config's ``partial`` (the module's, else
        the site's default), else its collector's default, else the built-in one (at most warning,
        no information above half missing)."""
        if self.partial is not None:
            return PartialPolicy.of(self.partial)
        cls = type(collector) if collector is not None else collector_class(self.collector)
        return PartialPolicy.of(getattr(cls, "default_partial", None))

    def make_collector(self) -> Collector:
        """A fresh collector instance with this module's parameters."""
        cls = collector_class(self.collector)
        params = dict(self.params)
        params.setdefault("timeout", self.timeout)
        return cls(**params)


@dataclasses.dataclass
class SiteConfig:
    path: Path | None
    site: str
    title: str
    store: Path
    levels: Levels
    categories: list[Category]
    modules: list[Module]
    config_hash: str
    #: the ``notifications:`` section: how events are derived, rules, receivers (hfpanel.events)
    notifications: Notifications = dataclasses.field(default_factory=Notifications)
    #: availability profiles (``availability:``, ``hfpanel.availability.profiles``), oldest version first
    availability: list = dataclasses.field(default_factory=list)
    #: days kept per table family (``retention:``, ``hfpanel.store.retention``)
    retention: Retention = dataclasses.field(default_factory=Retention.default)
    #: the ``transfers:`` section (``hfpanel.transfers.config.TransfersConfig``), None without one
    transfers: Any = None
    #: the ``api:`` section (state folder, push limits)
    api: ApiSettings = dataclasses.field(default_factory=ApiSettings)
    #: the ``auth:`` section (sign-in, access rules)
    auth: AuthSettings = dataclasses.field(default_factory=AuthSettings)

    def category(self, name: str) -> Category:
        """The category called ``name``; KeyError naming it when there is none."""
        for category in self.categories:
            if category.name == name:
                return category
        raise KeyError(f"no category {name!r}")

    def module(self, name: str) -> Module:
        """The module called ``name``; KeyError naming it when there is none."""
        for module in self.modules:
            if module.name == name:
                return module
        raise KeyError(f"no module {name!r}")


class _Problems:
    """The problems found so far, each as ``file: where: what is wrong``."""

    def __init__(self, source: str):
        self.source, self.items = source, []

    def add(self, where: str, message: str):
        self.items.append(f"{self.source}: {where}: {message}" if where else f"{self.source}: {message}")


# -- how one value is read: raise ValueError saying what is wrong --------------------------------
def _text(value) -> str:
    if isinstance(value, (dict, list)):
        raise ValueError(f"must be text, got {type(value).__name__}")
    return "" if value is None else str(value)


def _mapping(value) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError("must be a mapping")
    return dict(value)


def _weight(value) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
        raise ValueError(f"must be a non-negative number, got {value!r}")
    return float(value)


def _links(value) -> list:
    value = value or []
    if not isinstance(value, list) or not all(isinstance(link, dict) and link.get("url") for link in value):
        raise ValueError("must be a list of {title, url}")
    return value


def _hosts(value) -> list:
    value = value or []
    if not isinstance(value, list) or not all(isinstance(host, str) for host in value):
        raise ValueError("must be a list of host names")
    return value


def _labels(value) -> dict:
    value = value or {}
    if not isinstance(value, dict) or not all(isinstance(v, (str, int, float)) for v in value.values()):
        raise ValueError("must be a mapping of label -> text, e.g. {team: storage}")
    return {str(k): str(v) for k, v in value.items()}


def _as_is(value):
    return value


@dataclasses.dataclass(frozen=True)
class Key:
    """One key of a mapping in site.yaml: how its value is read, its default, what it means."""

    read: Callable[[Any], Any]
    doc: str
    default: Any = None
    required: bool = False


SITE_KEYS = {
    "name": Key(_text, "The site's name as the experiments spell it, e.g. T2_DE_DESY.", required=True),
    "title": Key(_text, "Shown in the page title (default: the name)."),
}
DEFAULT_KEYS = {
    "interval": Key(parse_duration, "How often a module runs, e.g. 15m.", DEFAULTS["interval"]),
    "timeout": Key(
        parse_duration, "A module's whole time budget: every request, retry and wait of one fetch.", DEFAULTS["timeout"]
    ),
    "max_age": Key(
        parse_duration,
        "Data older than this is stale: no information from then on (a stopped collector is not ok).",
        DEFAULTS["max_age"],
    ),
    "partial": Key(
        _as_is,
        "What an answer with parts missing (pools, rows, shards) means: the best level it can have (ok, warning, "
        "critical, noinfo) or {level, noinfo_above: share}; unset: the collector's own, else at most warning and no "
        "information above half missing (docs/ratings.md).",
    ),
}
CATEGORY_KEYS = {
    "name": Key(_text, "Lower-case letters, digits and '_', starting with a letter; unique.", required=True),
    "title": Key(_text, "Shown on the category's tile (default: the name)."),
    "rollup": Key(_as_is, "How module statuses roll up: a name or {type: …} (see Ratings and roll-ups).", "worst"),
    "description": Key(_text, "What the category covers, in a sentence or two.", ""),
}
MODULE_KEYS = {
    "name": Key(_text, "Lower-case letters, digits and single '_', starting with a letter; unique.", required=True),
    "title": Key(_text, "Shown to the shifter (default: the name)."),
    "category": Key(_text, "The category the module belongs to (one of categories:).", required=True),
    "collector": Key(
        _text, "A collector type (see below), or a class by dotted path: package.module:ClassName.", required=True
    ),
    "params": Key(_mapping, "The collector's parameters (see below); unknown ones are an error.", {}),
    **{key: Key(spec.read, spec.doc + " Default: the site's defaults:.") for key, spec in DEFAULT_KEYS.items()},
    "weight": Key(_weight, "Weight in a weighted roll-up.", 1.0),
    "rating": Key(_as_is, "How results become a status (default: the collector's own rule)."),
    "instruction": Key(_text, "What a shifter should do when the module is not green (default: the collector's).", ""),
    "links": Key(_links, "Links shown next to the module: a list of {title, url}.", []),
    "hosts": Key(_hosts, "Hosts the module watches: in a GOCDB outage the module shows 'downtime'.", []),
    "labels": Key(_labels, "Labels notification rules can match (e.g. {team: storage}); see docs/events.md.", {}),
}


def _read_keys(raw: dict, keys: dict[str, Key], where: str, problems: _Problems) -> dict:
    """Every declared key of ``raw`` read (its default when absent); unknown and bad keys are problems."""
    for key in sorted(set(raw) - set(keys)):
        problems.add(where, f"unknown key '{key}' (known: {', '.join(sorted(keys))})")
    values = {}
    for key, spec in keys.items():
        if raw.get(key) in (None, "") and spec.required:
            problems.add(where, f"key '{key}': missing")
            values[key] = None
            continue
        try:
            values[key] = spec.read(raw[key]) if key in raw else spec.default
        except (ValueError, TypeError) as error:
            problems.add(where, f"key '{key}': {error}")
            values[key] = None
    return values


def _name(raw, index: int, kind: str) -> tuple[Any, str]:
    """A list entry's name and how messages name it: "module 'x'", else "module #3"."""
    name = raw.get("name") if isinstance(raw, dict) else None
    return name, f"{kind} '{name}'" if name else f"{kind} #{index + 1}"


# -- the sections ----------------------------------------------------------------------------------
@dataclasses.dataclass
class _Reading:
    """One file being read: its problems, the raw data, and the sections read so far."""

    source: str
    path: Path | None
    data: dict
    problems: _Problems
    values: dict = dataclasses.field(default_factory=dict)


def _read_site(raw, reading: _Reading) -> dict:
    if isinstance(raw, str):
        raw = {"name": raw}
    if not isinstance(raw, dict) or not raw.get("name"):
        reading.problems.add("", "key 'site.name': missing")
        return {"name": "", "title": ""}
    site = _read_keys(raw, SITE_KEYS, "section 'site'", reading.problems)
    return {"name": site["name"], "title": site["title"] or site["name"]}


def _read_store(raw, reading: _Reading) -> Path | None:
    if not raw:
        reading.problems.add("", "key 'store': missing (the folder of the Parquet store)")
        return None
    store = Path(str(raw)).expanduser()
    return (reading.path.parent / store).resolve() if reading.path is not None and not store.is_absolute() else store


def _read_levels(raw, reading: _Reading) -> Levels:
    try:
        return Levels(**(raw or {}))
    except (TypeError, ValueError) as error:
        reading.problems.add("", f"key 'levels': {error}")
        return Levels()


def _read_defaults(raw, reading: _Reading) -> dict:
    """The site's interval, timeout and max_age as text or seconds, checked where modules use them."""
    if raw is not None and not isinstance(raw, dict):
        reading.problems.add("", "key 'defaults': must be a mapping")
        raw = {}
    for key in sorted(set(raw or {}) - set(DEFAULT_KEYS)):
        reading.problems.add("", f"key 'defaults.{key}': unknown (known: {', '.join(DEFAULT_KEYS)})")
    for problem in PartialPolicy.check((raw or {}).get("partial"), "defaults.partial"):
        reading.problems.add("", problem)
    return {**DEFAULTS, **{k: v for k, v in (raw or {}).items() if k in DEFAULT_KEYS}}


def _read_http(raw, reading: _Reading) -> dict:
    """Connection settings (cert, ca_dir, user_agent, ...) given once for every collector that has them."""
    if raw is not None and not isinstance(raw, dict):
        reading.problems.add("", "key 'http': must be a mapping of collector parameters")
        return {}
    return dict(raw or {})


def _read_categories(raw, reading: _Reading) -> list[Category]:
    if not raw:
        reading.problems.add("", "key 'categories': at least one category is needed")
        return []
    counts: dict = {}
    for module in reading.data.get("modules") or []:
        if isinstance(module, dict):
            counts[module.get("category")] = counts.get(module.get("category"), 0) + 1
    categories, seen = [], set()
    for index, item in enumerate(raw):
        name, where = _name(item, index, "category")
        if not isinstance(item, dict) or not name:
            reading.problems.add(where, "key 'name': missing")
            continue
        values = _read_keys(item, CATEGORY_KEYS, where, reading.problems)
        _check_name(
            str(name),
            bool(NAME_PATTERN.match(str(name))),
            "use lower-case letters, digits and '_' (starting with a letter)",
            seen,
            "category",
            where,
            reading.problems,
        )
        rule, found = check_rollup(item.get("rollup"), counts.get(name, 0))
        for problem in found:
            reading.problems.add(where, problem)
        categories.append(
            Category(name=name, title=values["title"] or name, rollup=rule, description=values["description"] or "")
        )
    return categories


def _check_name(name: str, well_formed: bool, rule: str, seen: set, kind: str, where: str, problems: _Problems) -> None:
    if not well_formed:
        problems.add(where, f"key 'name': {rule}")
    if name in seen:
        problems.add(where, f"key 'name': duplicate {kind} name")
    seen.add(name)


def _collector(type_name, where: str, problems: _Problems) -> type[Collector] | None:
    """The module's collector class, looked up once; None (and a problem) when there is none."""
    if not type_name:
        return None
    try:
        return collector_class(type_name)
    except (KeyError, TypeError, ImportError) as error:
        problems.add(where, f"key 'collector': {error.args[0] if error.args else error}")
        return None


def _collector_params(
    cls: type[Collector], type_name: str, params: dict, http: dict, where: str, problems: _Problems
) -> dict:
    """The module's params with the site's ``http:`` settings the collector knows underneath; every
    unknown name and every value the collector refuses is a problem."""
    known = set(cls.parameter_names())
    params = {**{k: v for k, v in http.items() if k in known}, **params}
    for key in sorted(set(params) - known):
        problems.add(
            where,
            f"key 'params.{key}': unknown parameter of collector '{type_name}' (known: {', '.join(sorted(known))})",
        )
    try:
        cls(**{k: v for k, v in params.items() if k in known})
    except Exception as error:  # param raises ValueError/TypeError naming the parameter; collectors add their own
        problems.add(where, f"key 'params': {str(error).splitlines()[0]}")
    return params


def _read_module(index: int, raw, reading: _Reading, names: set, categories: set) -> Module | None:
    name, where = _name(raw, index, "module")
    problems = reading.problems
    if not isinstance(raw, dict) or not name:
        problems.add(where, "key 'name': missing")
        return None
    values = _read_keys(raw, MODULE_KEYS, where, problems)
    _check_name(
        str(name),
        bool(NAME_PATTERN.match(str(name))) and "__" not in str(name),  # '__' splits table names
        "use lower-case letters, digits and single '_' (starting with a letter)",
        names,
        "module",
        where,
        problems,
    )
    if values["category"] and values["category"] not in categories:
        problems.add(
            where,
            f"key 'category': category '{values['category']}' does not exist "
            f"(defined: {', '.join(sorted(categories)) or 'none'})",
        )
    cls = _collector(values["collector"], where, problems)
    params = values["params"] if isinstance(values["params"], dict) else {}
    site_values = {"store": reading.values["store"], "module": name}
    for key in getattr(cls, "site_params", ()):  # what a collector takes from the site (push: store, module)
        if not params.get(key) and site_values.get(key) is not None:
            params = {**params, key: str(site_values[key])}
    if cls is not None and values["params"] is not None:
        params = _collector_params(cls, values["collector"], params, reading.values["http"], where, problems)
    for problem in check_rating(raw.get("rating")) + PartialPolicy.check(raw.get("partial")):
        problems.add(where, problem)
    durations = {}
    for key in DEFAULTS:  # the module's own value, else the site's default: either may be wrong
        if key in raw:
            durations[key] = values[key] or 0.0
        else:
            try:
                durations[key] = parse_duration(reading.values["defaults"][key])
            except ValueError as error:
                problems.add(where, f"key '{key}': {error}")
                durations[key] = 0.0
    instruction = values["instruction"] or (cls.default_instruction if cls is not None else "")
    return Module(
        name=name,
        title=values["title"] or name,
        category=values["category"] or "",
        collector=values["collector"] or "",
        params=params,
        weight=values["weight"] or 0.0,
        rating=raw.get("rating"),
        instruction=instruction,
        links=values["links"] or [],
        hosts=values["hosts"] or [],
        partial=raw["partial"] if "partial" in raw else reading.values["defaults"].get("partial"),
        labels=values["labels"] or {},
        **durations,
    )


def _read_modules(raw, reading: _Reading) -> list[Module]:
    if not raw:
        reading.problems.add("", "key 'modules': at least one module is needed")
        return []
    names, categories = set(), {c.name for c in reading.values["categories"]}
    modules = (_read_module(index, item, reading, names, categories) for index, item in enumerate(raw))
    return [module for module in modules if module is not None]


def _read_transfers(raw, reading: _Reading):
    """The ingest daemon's section, checked here too so that one check covers the file; kept as
    ``SiteConfig.transfers`` for the transfer views (the matrix's efficiency levels)."""
    if raw is None:
        return None
    try:
        return parse_transfers(
            reading.data,
            source=reading.source,
            need_subscriptions=False,
            base=reading.path.resolve().parent if reading.path else None,
        )
    except ConfigError as error:
        reading.problems.items.extend(error.problems)
    return None


def _read_notifications(raw, reading: _Reading) -> Notifications:
    """Events, rules and receivers (hfpanel/events/config.py reads them; module names are checked)."""
    modules = {m.name: m for m in reading.values.get("modules") or []}
    return parse_notifications(raw, reading.problems.add, modules)


def _read_availability(raw, reading: _Reading) -> list:
    """Availability profiles: groups of modules or categories, AND/OR, dated (hfpanel.availability.profiles)."""
    modules = {m.name: m.category for m in reading.values.get("modules") or []}
    profiles, problems = parse_profiles(raw, modules)
    for where, message in problems:
        reading.problems.add(where, message)
    return profiles


def _read_retention(raw, reading: _Reading) -> Retention:
    """How long each family of tables is kept (hfpanel.store.retention); absent: the defaults."""
    retention, problems = parse_retention(raw)
    for where, message in problems:
        reading.problems.add(where, message)
    return retention


def _read_api(raw, reading: _Reading) -> ApiSettings:
    """The API's state folder and push limits (``hfpanel.api_settings``)."""
    problems: list[str] = []
    settings = parse_api(raw, reading.path.parent if reading.path is not None else None, problems)
    for problem in problems:
        reading.problems.add("", problem)
    return settings


def _read_auth(raw, reading: _Reading) -> AuthSettings:
    """Sign-in and access (``hfpanel.auth.settings``)."""
    problems: list[str] = []
    settings = parse_auth(raw, reading.path.parent if reading.path is not None else None, problems)
    for problem in problems:
        reading.problems.add("", problem)
    return settings


#: every top-level key of site.yaml and the function that reads it, in the order they are read
#: (modules need the categories, defaults and http settings read before them)
SECTIONS: dict[str, Callable[[Any, _Reading], Any]] = {
    "site": _read_site,
    "store": _read_store,
    "levels": _read_levels,
    "defaults": _read_defaults,
    "http": _read_http,
    "categories": _read_categories,
    "modules": _read_modules,
    "transfers": _read_transfers,
    "notifications": _read_notifications,
    "availability": _read_availability,
    "retention": _read_retention,
    "api": _read_api,
    "auth": _read_auth,
}


def parse_config(data, source: str = "<config>", path: Path | None = None, text: str = "") -> SiteConfig:
    """A checked ``SiteConfig`` from the YAML mapping ``data``; ``ConfigError`` lists every problem."""
    if not isinstance(data, dict):
        raise ConfigError([f"{source}: the file must hold a mapping with 'site', 'store', 'categories' and 'modules'"])
    reading = _Reading(source, path, data, _Problems(source))
    for key in sorted(set(data) - set(SECTIONS)):
        reading.problems.add("", f"unknown top-level key '{key}' (known: {', '.join(sorted(SECTIONS))})")
    for key, read in SECTIONS.items():
        reading.values[key] = read(data.get(key), reading)
    if reading.problems.items:
        raise ConfigError(reading.problems.items)
    site = reading.values["site"]
    return SiteConfig(
        path=path,
        site=str(site["name"]),
        title=str(site["title"]),
        store=reading.values["store"],
        levels=reading.values["levels"],
        categories=reading.values["categories"],
        modules=reading.values["modules"],
        notifications=reading.values["notifications"],
        availability=reading.values["availability"],
        retention=reading.values["retention"],
        api=reading.values["api"],
        auth=reading.values["auth"],
        config_hash=hashlib.sha256((text or yaml.safe_dump(data, sort_keys=True)).encode()).hexdigest()[:12],
        transfers=reading.values["transfers"],
    )


def load_config(path) -> SiteConfig:
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as error:
        raise ConfigError([f"{path}: cannot read: {error.strerror or error}"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ConfigError([f"{path}: {where}invalid YAML: {getattr(error, 'problem', error)}"]) from None
    return parse_config(data, source=str(path), path=path.resolve(), text=text)
