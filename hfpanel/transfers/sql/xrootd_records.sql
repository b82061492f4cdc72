-- The XRootD file-close records of the days being (re)computed (whole days: the daily distinct
-- client counts need every record of the day). Input: xrootd_close (raw rows of those days).
SELECT x.t, x.key, x.commit, x.server_host, x.server_site, x.client_host, x.client_domain,
       COALESCE(NULLIF(x.vo, ''), 'unknown') AS vo,
       COALESCE(NULLIF(x.operation, ''), 'unknown') AS operation,
       COALESCE(x.read_bytes, 0) AS read_bytes,
       COALESCE(x.write_bytes, 0) AS write_bytes
FROM xrootd_close x
