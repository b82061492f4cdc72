"""Events: what changed after each run, derived from the stored history and stored with the run.

``model`` (the ``events`` table), ``config`` (the ``notifications:`` section), ``derive`` (a run
against the runs before it), ``engine`` (the runner's step, in the run's own commit), ``cli``
(``hfpanel events``). See docs/events.md.
"""
