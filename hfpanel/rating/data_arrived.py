"""No rule: a module is fine whenever its data arrived and parsed (HappyFace 3's default)."""

from __future__ import annotations

from .base import Rating, RatingType, register, status_text, verdict

#: the name under which "no rating rule" is explained (it is never written in a config)
NO_RULE = "data_arrived"


@register
class DataArrived(RatingType):
    name = NO_RULE
    own_message = True

    def evaluate(self, rule, result) -> Rating:
        return Rating(1.0, result.message or "data received", {})

    def describe(self, rule) -> str:
        return "no rating rule: the module is fine whenever its data arrives and parses"

    def decision(self, rule, rating, levels) -> str:
        return f"data arrived and parsed → {status_text(rating.status)}; {verdict(rating, levels)}"
