-- The completed FTS attempts to count, with the columns statistics need.
-- Input: fts_complete (the raw rows to count: whole days for a rebuild, or only the rows committed
-- since the watermark for an incremental run; the SQL is the same).
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
