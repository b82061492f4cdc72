"""Flap detection as Nagios, Naemon and Icinga do it: a weighted percentage of state changes.

Each subject keeps its last ``window`` (21) levels, i.e. 20 possible transitions. Each transition
that is a change counts with a weight from 0.8 (the oldest) to 1.2 (the newest), so recent changes
count more; the sum over the 20 transitions, as a percentage of 20, is the subject's *percent state
change*. A subject starts flapping when it rises above ``high`` and stops when it falls below
``low`` (the hysteresis keeps it from flapping in and out of flapping). While flapping, a subject's
level changes are not events: one ``flapping_started``, then quiet until ``flapping_stopped``.
"""

from __future__ import annotations

import collections
import dataclasses


@dataclasses.dataclass
class Flapping:
    """The ``notifications.flapping`` settings (Icinga 2's defaults: 30 % high, 25 % low)."""

    window: int = 21
    high: float = 30.0
    low: float = 25.0
    enabled: bool = True


def percent_state_change(levels, window: int = 21) -> float:
    """The weighted percentage of changes among consecutive ``levels`` (oldest first) within a window
    of ``window`` levels. A shorter history is the window's newest end: its changes weigh as recent
    ones, and the percentage is still of the window's ``window - 1`` transitions (as Nagios does), so
    two changes in a young history are not already "100 % flapping"."""
    levels = list(levels)[-window:]
    slots = window - 1
    offset = slots - (len(levels) - 1)
    total = 0.0
    for i in range(len(levels) - 1):
        if levels[i] != levels[i + 1]:
            total += 0.8 + 0.4 * (offset + i) / (slots - 1) if slots > 1 else 1.0
    return 100.0 * total / slots


class FlapDetector:
    """Per subject: its recent levels and whether it is flapping now."""

    def __init__(self, settings: Flapping):
        self.settings = settings
        self.history: dict[str, collections.deque] = {}
        self.flapping: set[str] = set()

    def seed(self, subject: str, levels) -> None:
        """Start a subject's history from stored levels (oldest first)."""
        self.history[subject] = collections.deque(levels, maxlen=self.settings.window)

    def _history(self, subject: str) -> collections.deque:
        history = self.history.get(subject)
        if history is None:
            history = self.history[subject] = collections.deque(maxlen=self.settings.window)
        return history

    def repeat(self, subject: str, level: str, times: int) -> None:
        """What ``times`` calls of ``observe(subject, level)`` leave when ``level`` is the subject's
        latest and it is not flapping: no change, so nothing but the history moves."""
        self._history(subject).extend([level] * min(times, self.settings.window))

    def observe(self, subject: str, level: str) -> tuple[str | None, float]:
        """Add a level; returns ("started" | "stopped" | None, percent)."""
        history = self._history(subject)
        changed = bool(history) and history[-1] != level
        history.append(level)
        if not self.settings.enabled:
            return None, 0.0
        if not changed and subject not in self.flapping:
            return None, 0.0  # no new change: the percentage can only have fallen
        percent = percent_state_change(history, self.settings.window)
        if subject not in self.flapping and percent > self.settings.high:
            self.flapping.add(subject)
            return "started", percent
        if subject in self.flapping and percent < self.settings.low:
            self.flapping.discard(subject)
            return "stopped", percent
        return None, percent
