"""What a reader may act on: an acknowledgement or a silence stays within what they can see.

``Viewer.may`` says whether a reader may acknowledge or silence at all; ``Scope`` says whether this
incident or these matchers are theirs. A reader who does not see everything (``auth.access`` hides
a module or a category from them) may acknowledge only an incident whose every subject they see,
and may set or end only a silence whose matchers are confined to what they see: a ``module=``
matching only modules open to them, or else a ``category=`` matching only categories wholly open
to them (none of their modules hidden). A silence of everything, or of a category holding a module
they cannot see, would mute what is not theirs, and is refused.

Refusals name only what the reader typed or counts of what is hidden, never a hidden name.
Built from the reader's ``Hidden`` (``hfpanel.queries.viewed.hidden_for``), duck-typed so this room
stays below the questions.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import json


@dataclasses.dataclass(frozen=True)
class Scope:
    """``everything``: no scope to check (no sign-in, or a reader nothing is hidden from)."""

    everything: bool = True
    hidden_modules: frozenset = frozenset()
    hidden_categories: frozenset = frozenset()
    partial: frozenset = frozenset()  # open categories holding a hidden module
    visible_modules: frozenset = frozenset()
    shown_categories: frozenset = frozenset()  # open categories with no hidden module

    @classmethod
    def of(cls, hidden) -> Scope:
        """The scope of a reader who may not see ``hidden`` (a falsy ``Hidden``: everything)."""
        if not hidden:
            return cls()
        return cls(
            False,
            frozenset(hidden.modules),
            frozenset(hidden.categories),
            frozenset(hidden.partial),
            frozenset(hidden.visible),
            frozenset(hidden.shown),
        )

    def _module_seen(self, name: str) -> bool:
        return name in self.visible_modules and name not in self.hidden_modules

    def incident(self, incident) -> str | None:
        """None when the reader sees the whole incident (a row of the ``incidents`` table), else why not."""
        if self.everything:
            return None
        ident = incident["incident_id"]
        category = incident.get("category") or ""
        if category and category in self.hidden_categories:
            return f"incident {ident} is about a category you cannot see"
        raw = incident.get("subjects") or "[]"
        subjects = [s.get("subject", "") for s in (json.loads(raw) if isinstance(raw, str) else raw)]
        unseen = [s for s in subjects if not self._subject_seen(s)]
        if unseen:
            return (
                f"incident {ident} includes {len(unseen)} of its {len(subjects)} subjects you cannot see "
                "(ask someone who sees them all)"
            )
        return None

    def _subject_seen(self, subject: str) -> bool:
        kind, _, rest = subject.partition("/")
        if kind == "site":
            return True
        if kind == "category":
            return rest in self.shown_categories
        return self._module_seen(rest.split("/", 1)[0])

    def matchers(self, matchers: dict) -> str | None:
        """None when a silence of ``matchers`` (``acks.parse_matchers``) covers only what the reader
        sees, else why not."""
        if self.everything:
            return None
        modules = [p for p in matchers.get("module") or [] if not fnmatch.fnmatchcase("", p)]
        if modules:
            for pattern in modules:
                if any(fnmatch.fnmatchcase(m, pattern) for m in self.hidden_modules):
                    return f"module={pattern} matches modules you cannot see"
                if not any(fnmatch.fnmatchcase(m, pattern) for m in self.visible_modules):
                    return f"module={pattern} names no module you can see"
            return None
        categories = [p for p in matchers.get("category") or [] if not fnmatch.fnmatchcase("", p)]
        if categories:
            for pattern in categories:
                if any(fnmatch.fnmatchcase(c, pattern) for c in self.hidden_categories | self.partial):
                    return f"category={pattern} covers modules you cannot see"
                if not any(fnmatch.fnmatchcase(c, pattern) for c in self.shown_categories):
                    return f"category={pattern} names no category you can see"
            return None
        return (
            "a silence without module= or category= would also mute what you cannot see: "
            "name the modules or categories (only a reader who sees everything may silence more)"
        )


class Refused(ValueError):
    """The reader may not do this (one line for the page, naming why)."""


@dataclasses.dataclass(frozen=True)
class Actor:
    """A reader about to act from a page: their ``Viewer`` (may they at all) and ``Scope`` (on
    this?). ``author`` is the name their acknowledgements and silences are given in: the signed-in
    one whatever a form sent; None without sign-in (the name typed counts)."""

    viewer: object  # auth.access.Viewer
    scope: Scope = Scope()

    @property
    def author(self) -> str | None:
        identity = self.viewer.identity
        return identity.name if identity is not None and identity.via != "none" else None

    def check(self, action: str) -> None:
        reason = self.viewer.may(action)
        if reason:
            raise Refused(reason)

    def check_incident(self, incident) -> None:
        self.check("acknowledge")
        reason = self.scope.incident(incident)
        if reason:
            raise Refused(reason)

    def check_matchers(self, matchers: dict) -> None:
        self.check("silence")
        reason = self.scope.matchers(matchers)
        if reason:
            raise Refused(reason)
