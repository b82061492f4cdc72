-- fts_attempts keeping one row per key (the first committed), for bins where a duplicate key
-- slipped into the raw table (a redelivery older than the ingest's dedup window).
SELECT d.t, d.key, d.commit, d.src_hostname, d.dst_hostname, d.vo, d.activity, d.ok, d.bytes,
       d.transfer_ms, d.error_scope, d.error_category, d.error_pattern, d.error_message
FROM (
  SELECT a.*, row_number() OVER (PARTITION BY a.key ORDER BY a.commit ASC, a.t ASC) AS copy
  FROM (
    SELECT f.t, f.key, f.commit, f.src_hostname, f.dst_hostname,
           COALESCE(NULLIF(f.vo, ''), 'unknown') AS vo,
           COALESCE(NULLIF(f.activity, ''), 'unknown') AS activity,
           COALESCE(f.success, FALSE) AS ok,
           COALESCE(f.bytes, 0) AS bytes,
           COALESCE(f.transfer_ms, 0) AS transfer_ms,
           COALESCE(f.error_scope, '') AS error_scope,
           COALESCE(f.error_category, '') AS error_category,
           COALESCE(f.error_pattern, '') AS error_pattern,
           COALESCE(f.error_message, '') AS error_message
    FROM fts_complete f
  ) a
) d
WHERE d.copy = 1
