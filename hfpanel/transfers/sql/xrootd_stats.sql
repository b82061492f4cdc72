-- XRootD access statistics per bin ({bin} seconds: 600 for xrootd_stats_10m, 86400 for
-- xrootd_stats_1d; the one placeholder compute.sql_text fills), serving site, VO and operation:
-- records, bytes read and written, distinct client hosts and client domains (exact distinct
-- counts, so the daily table is computed from raw records, not summed from 10-minute rows).
-- Inputs: xrootd_records, host_sites. A server host the topology knows gives the site;
-- else the record's own server_site; else the host's domain (host_sites.site).
SELECT x.t - x.t % {bin} AS t,
       CASE WHEN s.matched THEN s.site
            ELSE COALESCE(NULLIF(x.server_site, ''), s.site, 'unknown') END AS site,
       x.vo, x.operation,
       COUNT(*) AS records,
       CAST(SUM(x.read_bytes) AS BIGINT) AS bytes_read,
       CAST(SUM(x.write_bytes) AS BIGINT) AS bytes_written,
       COUNT(DISTINCT x.client_host) AS clients,
       COUNT(DISTINCT x.client_domain) AS client_domains
FROM xrootd_records x
LEFT JOIN host_sites s ON s.host = x.server_host
GROUP BY 1, 2, 3, 4
