"""Which categories, modules and pages a signed-in person sees (HappyFace 3's per-module access).

Everything is open unless a rule names it; a module is visible when its category's rules and its
own rules all let the reader in (a group in common, or their DN listed). The same ``Viewer`` filters
the API's answers (lists, aggregates, history, detail) so a hidden module never shows through a
count, a roll-up or a search."""

from __future__ import annotations

import dataclasses

from .identity import Identity


@dataclasses.dataclass(frozen=True)
class Viewer:
    identity: Identity | None
    rules: tuple = ()

    def _allowed(self, kind: str, name: str) -> bool:
        if self.identity is not None and self.identity.everything:
            return True
        for rule in self.rules:
            if rule.kind == kind and rule.name == name:
                if self.identity is None:
                    return False
                if not (set(rule.groups) & set(self.identity.groups) or self.identity.dn in rule.dns):
                    return False
        return True

    def module(self, name: str, category: str | None) -> bool:
        return (category is None or self._allowed("category", category)) and self._allowed("module", name)

    def category(self, name: str) -> bool:
        return self._allowed("category", name)

    def page(self, name: str) -> bool:
        return self._allowed("page", name)

    @property
    def sees_everything(self) -> bool:
        """No rule hides anything from this reader (aggregates may be shown as stored)."""
        if self.identity is not None and self.identity.everything:
            return True
        return all(self._allowed(rule.kind, rule.name) for rule in self.rules)

    @property
    def key(self) -> str:
        """What distinguishes this reader's answers (for ETags): the rules they pass."""
        if self.sees_everything:
            return "all"
        return ",".join(f"{r.kind}:{r.name}" for r in self.rules if self._allowed(r.kind, r.name))
