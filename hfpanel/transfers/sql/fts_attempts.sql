-- The completed FTS attempts of the bins being (re)computed, with the columns statistics need.
-- Inputs: fts_complete (raw rows of the touched days), bins (t: 10-minute bin starts, epoch s).
-- Portable subset (docs/transfers.md "Aggregation"): runs unchanged on DuckDB and Spark SQL.
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
WHERE f.t - f.t % 600 IN (SELECT b.t FROM bins b)
