"""``ConfigError``: every problem of a configuration, each a line naming file, section and key.

Its own small module so that every section's reader (the site's, the transfers', events', auth's…)
can raise it without importing the whole site configuration — no reader imports ``config.py`` back.
"""

from __future__ import annotations


class ConfigError(Exception):
    """Raised with every problem found; ``problems`` is the list of one-line messages."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))
