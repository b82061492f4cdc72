"""Availability and reliability with the WLCG definitions: the profiles (which modules count, AND/OR,
dated versions), the computation over a status history, and the corrections (added downtimes,
exclusions, withdrawals) kept as data. Below the questions (``queries.availability``) that feed it
from the store, and the reports and pages built on top."""
