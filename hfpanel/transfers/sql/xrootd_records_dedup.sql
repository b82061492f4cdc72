-- xrootd_records keeping one row per key (the first committed); see fts_attempts_dedup.sql.
-- Input: xrootd_records_rows (xrootd_records.sql over the rows being counted).
SELECT d.t, d.key, d.commit, d.server_host, d.server_site, d.client_host, d.client_domain, d.vo,
       d.operation, d.read_bytes, d.write_bytes
FROM (
  SELECT x.*, row_number() OVER (PARTITION BY x.key ORDER BY x.commit ASC, x.t ASC) AS copy
  FROM xrootd_records_rows x
) d
WHERE d.copy = 1
