"""The site configuration: one YAML file, validated with messages that name file, module and key.

Every mistake is collected (not just the first) so one ``hfpanel config check`` shows them all.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from pathlib import Path

import yaml

from .collector import Collector, collector_class
from .durations import parse_duration
from .levels import Levels
from .rating import check_rating, check_rollup

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
MODULE_KEYS = {"name", "title", "category", "collector", "params", "interval", "timeout", "max_age",
               "weight", "rating", "instruction", "links", "hosts"}
CATEGORY_KEYS = {"name", "title", "rollup", "description"}
TOP_KEYS = {"site", "store", "levels", "defaults", "categories", "modules", "http", "transfers"}
DEFAULTS = {"interval": "15m", "timeout": "30s", "max_age": "1h"}


class ConfigError(Exception):
    """Raised with every problem found; ``problems`` is the list of one-line messages."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclasses.dataclass
class Category:
    name: str
    title: str
    rollup: dict


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

    def effective_rating(self, collector: Collector | None = None) -> dict | None:
        """The rule that rates this module: the config's ``rating``, else its collector's default
        (which may depend on the parameters, so it is asked of an instance)."""
        if self.rating:
            return dict(self.rating)
        rule = (collector or self.make_collector()).default_rating
        return dict(rule) if rule else None

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
    def __init__(self, source: str):
        self.source, self.items = source, []

    def add(self, where: str, message: str):
        self.items.append(f"{self.source}: {where}: {message}" if where else f"{self.source}: {message}")


def _duration(raw, where, key, problems) -> float:
    try:
        return parse_duration(raw)
    except ValueError as error:
        problems.add(where, f"key '{key}': {error}")
        return 0.0


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_rating(rule, where, problems):
    for problem in check_rating(rule):
        problems.add(where, problem)


def _check_rollup(raw, where, problems, module_count) -> dict:
    rule, found = check_rollup(raw, module_count)
    for problem in found:
        problems.add(where, problem)
    return rule


def _check_params(module: dict, where: str, problems) -> None:
    try:
        cls = collector_class(module["collector"])
    except (KeyError, TypeError, ImportError) as error:
        message = error.args[0] if error.args else str(error)
        problems.add(where, f"key 'collector': {message}")
        return
    params = module.get("params") or {}
    if not isinstance(params, dict):
        problems.add(where, "key 'params': must be a mapping")
        return
    known = set(cls.parameter_names())
    for key in sorted(set(params) - known):
        problems.add(where, f"key 'params.{key}': unknown parameter of collector '{module['collector']}' "
                            f"(known: {', '.join(sorted(known))})")
    try:
        cls(**{k: v for k, v in params.items() if k in known})
    except Exception as error:  # param raises ValueError/TypeError naming the parameter
        problems.add(where, f"key 'params': {str(error).splitlines()[0]}")


def parse_config(data, source: str = "<config>", path: Path | None = None, text: str = "") -> SiteConfig:
    problems = _Problems(source)
    if not isinstance(data, dict):
        raise ConfigError([f"{source}: the file must hold a mapping with 'site', 'store', 'categories' and 'modules'"])
    for key in sorted(set(data) - TOP_KEYS):
        problems.add("", f"unknown top-level key '{key}' (known: {', '.join(sorted(TOP_KEYS))})")
    site = data.get("site") or {}
    if isinstance(site, str):
        site = {"name": site}
    if not site.get("name"):
        problems.add("", "key 'site.name': missing")
    if not data.get("store"):
        problems.add("", "key 'store': missing (the folder of the Parquet store)")
    try:
        levels = Levels(**(data.get("levels") or {}))
    except (TypeError, ValueError) as error:
        problems.add("", f"key 'levels': {error}")
        levels = Levels()
    defaults = {**DEFAULTS, **(data.get("defaults") or {})}
    http_defaults = data.get("http") or {}

    raw_modules = data.get("modules") or []
    raw_categories = data.get("categories") or []
    if not raw_categories:
        problems.add("", "key 'categories': at least one category is needed")
    if not raw_modules:
        problems.add("", "key 'modules': at least one module is needed")
    counts = {}
    for m in raw_modules:
        if isinstance(m, dict):
            counts[m.get("category")] = counts.get(m.get("category"), 0) + 1

    categories, seen = [], set()
    for index, c in enumerate(raw_categories):
        name = c.get("name") if isinstance(c, dict) else None
        where = f"category '{name}'" if name else f"category #{index + 1}"
        if not isinstance(c, dict) or not name:
            problems.add(where, "key 'name': missing")
            continue
        if not NAME_PATTERN.match(str(name)):
            problems.add(where, "key 'name': use lower-case letters, digits and '_' (starting with a letter)")
        if name in seen:
            problems.add(where, "key 'name': duplicate category name")
        seen.add(name)
        for key in sorted(set(c) - CATEGORY_KEYS):
            problems.add(where, f"unknown key '{key}'")
        rollup = _check_rollup(c.get("rollup"), where, problems, counts.get(name, 0))
        categories.append(Category(name=name, title=str(c.get("title") or name), rollup=rollup))

    modules, names = [], set()
    for index, m in enumerate(raw_modules):
        name = m.get("name") if isinstance(m, dict) else None
        where = f"module '{name}'" if name else f"module #{index + 1}"
        if not isinstance(m, dict) or not name:
            problems.add(where, "key 'name': missing")
            continue
        if not NAME_PATTERN.match(str(name)) or "__" in str(name):
            problems.add(where, "key 'name': use lower-case letters, digits and single '_' (starting with a letter)")
        if name in names:
            problems.add(where, "key 'name': duplicate module name")
        names.add(name)
        for key in sorted(set(m) - MODULE_KEYS):
            problems.add(where, f"unknown key '{key}' (known: {', '.join(sorted(MODULE_KEYS))})")
        for key in ("category", "collector"):
            if not m.get(key):
                problems.add(where, f"key '{key}': missing")
        if m.get("category") and m["category"] not in seen:
            problems.add(where, f"key 'category': category '{m['category']}' does not exist "
                                f"(defined: {', '.join(sorted(seen)) or 'none'})")
        params = dict(m.get("params") or {}) if isinstance(m.get("params") or {}, dict) else m.get("params")
        if m.get("collector"):
            if isinstance(params, dict):
                try:
                    known = set(collector_class(m["collector"]).parameter_names())
                    params = {**{k: v for k, v in http_defaults.items() if k in known}, **params}
                except (KeyError, TypeError, ImportError):
                    pass
            _check_params({**m, "params": params}, where, problems)
        _check_rating(m.get("rating"), where, problems)
        weight = m.get("weight", 1.0)
        if not _number(weight) or weight < 0:
            problems.add(where, f"key 'weight': must be a non-negative number, got {weight!r}")
            weight = 1.0
        links = m.get("links") or []
        if not isinstance(links, list) or not all(isinstance(l, dict) and l.get("url") for l in links):
            problems.add(where, "key 'links': must be a list of {title, url}")
            links = []
        hosts = m.get("hosts") or []
        if not isinstance(hosts, list) or not all(isinstance(h, str) for h in hosts):
            problems.add(where, "key 'hosts': must be a list of host names")
            hosts = []
        durations = {key: _duration(m.get(key, defaults[key]), where, key, problems) for key in DEFAULTS}
        instruction = str(m.get("instruction") or "")
        if not instruction and m.get("collector"):
            try:
                instruction = collector_class(m["collector"]).default_instruction
            except (KeyError, TypeError, ImportError):
                pass  # already reported above
        modules.append(Module(
            name=name, title=str(m.get("title") or name), category=m.get("category", ""),
            collector=m.get("collector", ""), params=params if isinstance(params, dict) else {},
            weight=float(weight), rating=m.get("rating"), instruction=instruction,
            links=links, hosts=hosts, **durations,
        ))

    if "transfers" in data:  # the ingest daemon's section: checked here too, so one check covers the file
        from .transfers.config import parse_transfers
        try:
            parse_transfers(data, source=source, base=path.resolve().parent if path else None,
                            need_subscriptions=False)
        except ConfigError as error:
            problems.items.extend(error.problems)
    if problems.items:
        raise ConfigError(problems.items)
    store = Path(str(data["store"])).expanduser()
    if path is not None and not store.is_absolute():
        store = (path.parent / store).resolve()
    return SiteConfig(
        path=path, site=str(site["name"]), title=str(site.get("title") or site["name"]), store=store,
        levels=levels, categories=categories, modules=modules,
        config_hash=hashlib.sha256((text or yaml.safe_dump(data, sort_keys=True)).encode()).hexdigest()[:12],
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
