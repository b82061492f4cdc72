-- 10-minute failure counts per link, VO, activity and error (scope, category, message pattern),
-- with one full message as an example (the smallest, so both engines pick the same one).
-- Inputs: fts_attempts, host_sites.
SELECT a.t - a.t % 600 AS t,
       COALESCE(s.site, 'unknown') AS src_site,
       COALESCE(d.site, 'unknown') AS dst_site,
       a.vo, a.activity, a.error_scope, a.error_category, a.error_pattern,
       COUNT(*) AS failures,
       MIN(a.error_message) AS example
FROM fts_attempts a
LEFT JOIN host_sites s ON s.host = a.src_hostname
LEFT JOIN host_sites d ON d.host = a.dst_hostname
WHERE NOT a.ok
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
