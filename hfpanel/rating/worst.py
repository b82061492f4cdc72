"""``worst``: the category is as good as its worst module (the weakest link, HappyFace's default)."""

from __future__ import annotations

from .base import RollupType, register
from .base import modules as _modules


@register
class Worst(RollupType):
    name = "worst"

    def evaluate(self, rule, statuses, weights):
        return min(statuses), f"worst of {_modules(len(statuses))}"

    def describe(self, rule) -> str:
        return "worst: the category is as good as its worst module"
