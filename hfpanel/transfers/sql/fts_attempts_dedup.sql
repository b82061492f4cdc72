-- fts_attempts keeping one row per key (the first committed), for runs where a duplicate key
-- slipped into the raw table (a redelivery older than the ingest's dedup window).
-- Input: fts_attempts_rows (fts_attempts.sql over the rows being counted).
SELECT d.t, d.key, d.commit, d.src_hostname, d.dst_hostname, d.vo, d.activity, d.ok, d.bytes,
       d.transfer_ms, d.error_scope, d.error_category, d.error_pattern, d.error_message
FROM (
  SELECT a.*, row_number() OVER (PARTITION BY a.key ORDER BY a.commit ASC, a.t ASC) AS copy
  FROM fts_attempts_rows a
) d
WHERE d.copy = 1
