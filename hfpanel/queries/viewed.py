"""The pages as one reader may see them: a ``Store`` whose every table is narrowed to the categories
and modules the reader's ``auth.access`` rules open, and the site configuration without the rest.

The pages, their search, plots, downloads and strips all read the store through ``Store.scan`` and
the store's views, and both are made in ``Store._table_sql``: narrowing there filters every
component at once, present and future, instead of teaching each component the rules. What a
reader may not see is gone before any query runs:

- rows of a hidden module (any table with a ``module`` column: statuses, metrics, detail tables,
  raw payloads, events — only the known open modules' rows pass, so a module that first ran after
  the page was opened stays out until it is opened again) or of a hidden category (``category``);
- the stored roll-up of a category holding a hidden module (the pages then show the worst of the
  modules the reader sees, as the API does: a hidden module's level never shows through it);
- events about a hidden subject, the per-run level counts of ``runs`` (they count every module),
  and the stored configurations (their text names every module);
- incidents naming a hidden module or a category the reader does not wholly see among their
  subjects, the acknowledgements of those incidents (their comments), silences whose matchers
  name a hidden module or category (their matchers would name it; a pattern such as ``sam_*``
  names nothing), and messages (``outbox``) with an alert about a
  hidden module or category.

One filtered store per set of hidden names (``viewed_store``), shared by every session of readers
who see the same, with its own cache entries (``cache_key``).
"""

from __future__ import annotations

import dataclasses
import json
import re
import threading
from pathlib import Path

import pyarrow.parquet as pq

from ..auth.access import Viewer
from ..store import Store
from ..store.reader import read_sql
from . import loaders

#: the per-run level counts of ``runs``: they count hidden modules too
RUN_COUNTS = ("ok", "warning", "critical", "noinfo", "downtime")


@dataclasses.dataclass(frozen=True)
class Hidden:
    """The names a reader may not see. ``partial`` are categories they see holding a hidden module."""

    modules: frozenset = frozenset()
    categories: frozenset = frozenset()
    partial: frozenset = frozenset()
    #: the modules known and open to the reader: rows of any other module (one that first ran after
    #: this was worked out) stay out until the page is opened again — closed by default
    visible: frozenset = frozenset()
    #: the categories known and wholly open to the reader (none of their modules hidden)
    shown: frozenset = frozenset()

    def __bool__(self) -> bool:
        return bool(self.modules or self.categories)


def hidden_for(viewer: Viewer, store: Store, config=None) -> Hidden:
    """What ``viewer`` may not see of this site: every module and category the configuration, the
    store's latest statuses and the rules themselves name, checked against the rules."""
    if viewer.sees_everything:
        return Hidden()
    mapping = dict(configured_categories(store))
    frame = loaders.status_at(store)
    if not frame.empty:
        mapping.update(zip(frame["module"], frame["category"]))
    if config is not None:
        mapping.update({m.name: m.category for m in config.modules})
    categories = set(mapping.values()) | {r.name for r in viewer.rules if r.kind == "category"}
    if config is not None:
        categories |= {c.name for c in config.categories}
    modules = set(mapping) | {r.name for r in viewer.rules if r.kind == "module"}
    hidden_categories = frozenset(c for c in categories if not viewer.category(c))
    hidden_modules = frozenset(m for m in modules if not viewer.module(m, mapping.get(m)))
    partial = frozenset(mapping[m] for m in hidden_modules if m in mapping) - hidden_categories
    return Hidden(
        hidden_modules,
        hidden_categories,
        partial,
        frozenset(modules - hidden_modules),
        frozenset(categories - hidden_categories - partial),
    )


def configured_categories(store: Store) -> dict[str, str]:
    """module -> category in every configuration the store kept (``configs``), oldest first, so a
    module since removed from the configuration and silent for longer than the status look-back
    is still known to be in its category (its metrics and detail stay as hidden as it was)."""

    def compute():
        if not store.has_table("configs"):
            return {}
        found: dict[str, str] = {}
        for text in store.sql("SELECT config FROM configs ORDER BY time")["config"]:
            try:
                modules = json.loads(text).get("modules", [])
            except (ValueError, TypeError, AttributeError):
                continue
            for module in modules if isinstance(modules, list) else []:
                if isinstance(module, dict) and isinstance(module.get("name"), str):
                    found[module["name"]] = str(module.get("category") or "")
        return found

    return loaders.cached("configured_categories", store, (), compute)


def _names(values) -> str:
    return ", ".join("'" + str(v).replace("'", "''") + "'" for v in sorted(values))


def _alternatives(names) -> str:
    return "(?:" + "|".join(re.escape(str(n)) for n in sorted(names)) + ")"


def _regexp(pieces: list[str]) -> str:
    """The pieces as one RE2 pattern, quoted for SQL."""
    return "'" + "|".join(pieces).replace("'", "''") + "'"


def incident_regex(h: Hidden) -> str:
    """An incident (its ``subjects`` JSON) naming a hidden module (``module/x``, ``row/x/…``,
    ``metric/x/…``, ``feed/x…``) or a category the reader does not wholly see: one pattern that RE2
    (DuckDB, the pages) and Python's ``re`` (the API) read alike; "" when nothing is hidden."""
    pieces = [f'"subject": "[^/"]+/{_alternatives(h.modules)}[/"]'] if h.modules else []
    if h.categories | h.partial:
        pieces.append(f'"subject": "category/{_alternatives(h.categories | h.partial)}"')
    return "|".join(pieces)


def _incident_pattern(h: Hidden) -> str:
    return "'" + incident_regex(h).replace("'", "''") + "'"


def _silence_pattern(h: Hidden) -> str:
    """A silence whose matchers (``acks.parse_matchers`` JSON) name a hidden module or category:
    the reader sees neither it nor its matchers (a pattern such as ``sam_*`` names nothing)."""
    pieces = [f'"module": \\[[^\\]]*"{_alternatives(h.modules)}"'] if h.modules else []
    if h.categories:
        pieces.append(f'"category": \\[[^\\]]*"{_alternatives(h.categories)}"')
    return _regexp(pieces)


def _message_pattern(h: Hidden) -> str:
    """A message (``outbox.payload``, Alertmanager JSON) with an alert labelled with a hidden module
    or category: its subject line and text name them too."""
    pieces = [f'"module": "{_alternatives(h.modules)}"'] if h.modules else []
    if h.categories:
        pieces.append(f'"category": "{_alternatives(h.categories)}"')
    if h.partial:  # a category's own level: the stored one counts the reader's hidden modules too
        pieces.append(f'"category": "{_alternatives(h.partial)}", "kind": "category_level_changed"')
    return _regexp(pieces)


class ViewedStore(Store):
    """A read-only ``Store`` that holds only what the reader may see (see the module docstring)."""

    def __init__(self, root, hidden: Hidden):
        self.hidden = hidden
        self._columns: dict[tuple, set] = {}
        super().__init__(root)

    @property
    def cache_key(self) -> str:
        h = self.hidden
        return f"{self.root}#viewed:{sorted(h.modules)}:{sorted(h.categories)}:{sorted(h.partial)}:{sorted(h.visible)}"

    def tables(self) -> list[str]:
        """The tables, with only the known open modules' detail tables (the names would tell)."""
        if not self.hidden:
            return super().tables()
        shown = tuple(f"detail__{m}__" for m in self.hidden.visible)
        return [t for t in super().tables() if not t.startswith("detail__") or (shown and t.startswith(shown))]

    def has_table(self, name: str) -> bool:
        return name in self.tables()

    def _columns_of(self, parts: list[str]) -> set[str]:
        key = (parts[0], parts[-1])
        if key not in self._columns:
            found = set()
            for part in {parts[0], parts[-1]}:
                found |= set(pq.read_schema(self.root / part).names)
            self._columns[key] = found
        return self._columns[key]

    def _table_sql(self, table: str, parts: list[str], module: str | None) -> str:
        base = read_sql(self.root, parts, module)
        if not parts:
            return base
        if table == "configs":
            return f"(SELECT * FROM {base} WHERE false)"
        columns, h = self._columns_of(parts), self.hidden
        where = []
        if "module" in columns and h.modules:  # the known open ones, and rows about no module (events)
            where.append(f"coalesce(module, '') IN ({_names(h.visible | {''})})")
        categories = h.categories | (h.partial if table == "category_status" else frozenset())
        if "category" in columns and categories:
            where.append(f"coalesce(category, '') NOT IN ({_names(categories)})")
        subjects = [f"module/{m}" for m in h.modules] + [f"category/{c}" for c in h.categories | h.partial]
        if "subject" in columns and subjects:
            where.append(f"coalesce(subject, '') NOT IN ({_names(subjects)})")
        if table == "incidents" and "subjects" in columns and (h.modules or h.categories or h.partial):
            where.append(f"NOT regexp_matches(coalesce(subjects, ''), {_incident_pattern(h)})")
        incidents = self._manifest.parts("incidents") if table == "acks" and "incident_id" in columns else []
        if incidents and (h.modules or h.categories or h.partial):  # who acknowledged what they cannot see, and why
            about = [f"regexp_matches(coalesce(subjects, ''), {_incident_pattern(h)})"]
            if h.categories:
                about.append(f"coalesce(category, '') IN ({_names(h.categories)})")
            hidden_incidents = (
                f"SELECT incident_id FROM {read_sql(self.root, incidents, None)} WHERE {' OR '.join(about)}"
            )
            where.append(f"incident_id NOT IN ({hidden_incidents})")
        if table == "silences" and "matchers" in columns and (h.modules or h.categories):
            where.append(f"NOT regexp_matches(coalesce(matchers, ''), {_silence_pattern(h)})")
        if table == "outbox" and "payload" in columns and (h.modules or h.categories or h.partial):
            where.append(f"NOT regexp_matches(coalesce(payload, ''), {_message_pattern(h)})")
        select = "*"
        counts = [c for c in RUN_COUNTS if c in columns] if table == "runs" else []
        if counts:
            select = "* REPLACE (" + ", ".join(f"CAST(NULL AS BIGINT) AS {c}" for c in counts) + ")"
        if not where and select == "*":
            return base
        return f"(SELECT {select} FROM {base}" + (f" WHERE {' AND '.join(where)}" if where else "") + ")"


_viewed: dict[tuple, ViewedStore] = {}
_viewed_lock = threading.Lock()


def viewed_store(store, hidden: Hidden) -> Store:
    """The store as readers who may not see ``hidden`` see it (the store itself when nothing is)."""
    base = loaders.shared_store(store)
    if not hidden:
        return base
    key = (str(Path(base.root).resolve()), hidden)
    with _viewed_lock:
        found = _viewed.get(key)
        if found is None:
            found = _viewed[key] = ViewedStore(base.root, hidden)
        return found


def viewed_config(config, hidden: Hidden):
    """The site configuration without the hidden categories and modules (their names, titles,
    instructions and links stay off the pages)."""
    if config is None or not hidden:
        return config
    return dataclasses.replace(
        config,
        categories=[c for c in config.categories if c.name not in hidden.categories],
        modules=[m for m in config.modules if m.name not in hidden.modules and m.category not in hidden.categories],
    )
