"""Which categories, modules and pages a signed-in person sees (HappyFace 3's per-module access).

Everything is open unless a rule names it; a module is visible when its category's rules and its
own rules all let the reader in (a group in common, or their DN listed). The same ``Viewer`` filters
the API's answers (lists, aggregates, history, detail) so a hidden module never shows through a
count, a roll-up or a search.

``Viewer.may`` says whether the reader may also act — acknowledge, silence — on the pages
(``auth.acknowledge`` / ``auth.silence``, Icinga's separate acknowledge permission): None when they
may, else the reason in one line for the page ("acknowledging needs group shifters")."""

from __future__ import annotations

import dataclasses

from .identity import Identity

#: how a refusal names each action
ACTING = {"acknowledge": "acknowledging", "silence": "silencing"}


@dataclasses.dataclass(frozen=True)
class Viewer:
    identity: Identity | None
    rules: tuple = ()
    #: ``auth.acknowledge`` / ``auth.silence`` rules (``Rule(kind=action)``); an action not named is
    #: open to every signed-in reader
    actors: tuple = ()

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

    def may(self, action: str) -> str | None:
        """None when this reader may ``action`` ("acknowledge" or "silence") from the pages, else why
        not. Without sign-in (mode none: the local admin) anyone may; an anonymous reader or an
        API token never may; a signed-in reader may when no rule names the action, or a rule's group
        or DN is theirs."""
        doing = ACTING.get(action, action)
        identity = self.identity
        if identity is not None and identity.via == "none":
            return None
        if identity is None:
            return f"{doing} needs you to sign in"
        if identity.via == "token":
            return f"{doing} is for signed-in people, not API tokens"
        rules = [rule for rule in self.actors if rule.kind == action]
        if not rules or any(
            set(r.groups) & set(identity.groups) or (identity.dn and identity.dn in r.dns) for r in rules
        ):
            return None
        groups = sorted({g for r in rules for g in r.groups})
        needs = []
        if groups:
            needs.append(("group " if len(groups) == 1 else "one of the groups ") + ", ".join(groups))
        if any(r.dns for r in rules):
            needs.append("a certificate DN the site lists")
        return f"{doing} needs {' or '.join(needs)} (you are {identity.name})"

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
