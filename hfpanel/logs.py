"""hfpanel's log: one line per failure, in hfpanel's own words, at the level the CLI asked for.

Libraries tell their own story of a failure that hfpanel already reports in one line: stomp.py
logs a traceback for every frame it cannot send to a broker that went away (~100 in 30 ms on a
restart) and a warning per failed connection attempt; rucio-clients an ERROR per retry; tornado a
WARNING per 4xx request (a scanner fills the journal). ``tame(name)`` turns such a logger's
records into DEBUG detail: shown, tracebacks and all, only when hfpanel's own logger is at DEBUG
(``hfpanel -vv``), never at the default verbosity. The one list of tamed loggers is ``TAMED``;
``setup()`` (called by ``hfpanel.cli.main``) applies it, and a module that creates a library's
logger itself (the Rucio client's) tames it where it creates it.
"""

from __future__ import annotations

import logging

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: -v count -> level of hfpanel's log
LEVELS = (logging.WARNING, logging.INFO, logging.DEBUG)
#: logger -> the level from which its records still pass as they are (None: all become detail).
#: stomp.py: the broker client logs each loss and reconnection itself (hfpanel.ingest.broker);
#: tornado.access: a 5xx is a failure of hfpanel's pages and stays an ERROR, a 4xx is the client's.
TAMED = {"stomp.py": None, "tornado.access": logging.ERROR}


class _Detail(logging.Filter):
    """Demotes a record below ``keep`` to DEBUG and lets it through only when hfpanel logs DEBUG."""

    def __init__(self, keep: int | None):
        super().__init__()
        self.keep = keep

    def filter(self, record: logging.LogRecord) -> bool:
        if self.keep is not None and record.levelno >= self.keep:
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger("hfpanel").isEnabledFor(logging.DEBUG)


def tame(name: str, keep: int | None = None) -> logging.Logger:
    """Make logger ``name``'s records (below ``keep``) DEBUG detail; idempotent. The filter is put
    last, so filters that read or redact records (``hfpanel.ingest.broker``'s) still see every one.
    A logger filter sees only the records of that very logger, not of its children: name the
    logger that logs."""
    logger = logging.getLogger(name)
    for existing in [f for f in logger.filters if isinstance(f, _Detail)]:
        logger.removeFilter(existing)
    logger.addFilter(_Detail(keep))
    return logger


def setup(verbosity: int = 0) -> None:
    """The CLI's logging: hfpanel's lines on stderr (WARNING, -v INFO, -vv DEBUG), libraries tamed."""
    logging.basicConfig(level=LEVELS[min(max(verbosity, 0), len(LEVELS) - 1)], format=FORMAT)
    for name, keep in TAMED.items():
        tame(name, keep)
