-- xrootd_records keeping one row per key (the first committed); see fts_attempts_dedup.sql.
SELECT d.t, d.key, d.commit, d.server_host, d.server_site, d.client_host, d.client_domain, d.vo,
       d.operation, d.read_bytes, d.write_bytes
FROM (
  SELECT x.t, x.key, x.commit, x.server_host, x.server_site, x.client_host, x.client_domain,
         COALESCE(NULLIF(x.vo, ''), 'unknown') AS vo,
         COALESCE(NULLIF(x.operation, ''), 'unknown') AS operation,
         COALESCE(x.read_bytes, 0) AS read_bytes,
         COALESCE(x.write_bytes, 0) AS write_bytes,
         row_number() OVER (PARTITION BY x.key ORDER BY x.commit ASC, x.t ASC) AS copy
  FROM xrootd_close x
) d
WHERE d.copy = 1
