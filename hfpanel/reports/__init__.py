"""Reports computed from the store: availability and reliability (``ar``), their profiles
(``profiles``) and the corrections a site records after the fact (``corrections``).

Everything here reads stored runs and never changes them: a correction is a new row of its own
table, and a report shows the original figures beside the corrected ones.
"""
