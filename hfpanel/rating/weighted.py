"""``weighted``: the weighted mean of the modules' statuses (module ``weight``, default 1)."""

from __future__ import annotations

from .base import RollupType, register
from .base import modules as _modules


@register
class Weighted(RollupType):
    name = "weighted"

    def evaluate(self, rule, statuses, weights):
        total = sum(weights)
        status = sum(s * w for s, w in zip(statuses, weights)) / total if total > 0 else min(statuses)
        return status, f"weighted mean of {_modules(len(statuses))}"

    def describe(self, rule) -> str:
        return "weighted: the weighted mean of the modules' statuses (each module's weight)"
