"""``worst``: the category is as good as its worst module (the weakest link, HappyFace's default)."""

from __future__ import annotations

from .base import RollupType, register


@register
class Worst(RollupType):
    name = "worst"

    def evaluate(self, rule, statuses, weights):
        return min(statuses), f"worst of {len(statuses)} modules"

    def describe(self, rule) -> str:
        return "worst: the category is as good as its worst module"
