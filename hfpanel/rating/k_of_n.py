"""``k_of_n``: the category is as good as its k-th best module (k of n redundant services must work).

Fewer than k modules with information cannot show that k work: the category then has no
information rather than the status of the few that answered."""

from __future__ import annotations

from .base import RollupType, register
from .base import modules as _modules


@register
class KOfN(RollupType):
    name = "k_of_n"
    optional = frozenset({"k"})

    def check(self, rule, module_count):
        k = rule.get("k")
        if not isinstance(k, int) or isinstance(k, bool) or k < 1:
            return [f"key 'rollup.k': must be a positive integer, got {k!r}"]
        if module_count and k > module_count:
            return [f"key 'rollup.k': {k} is more than the {module_count} modules in the category"]
        return []

    def required_known(self, rule) -> int:
        return int(rule["k"])

    def evaluate(self, rule, statuses, weights):
        k = int(rule["k"])
        return sorted(statuses, reverse=True)[k - 1], f"best {k} of {_modules(len(statuses))} at least this good"

    def describe(self, rule) -> str:
        return f"k of n: the category is as good as its {rule['k']}th best module"
