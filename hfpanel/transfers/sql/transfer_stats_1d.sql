-- Daily transfer statistics: the sum of a day's 10-minute statistics (all counts are additive).
-- Input: transfer_stats_10m (every 10-minute row of the days being rebuilt).
SELECT s.t - s.t % 86400 AS t, s.src_site, s.dst_site, s.vo, s.activity,
       CAST(SUM(s.transfers) AS BIGINT) AS transfers,
       CAST(SUM(s.successes) AS BIGINT) AS successes,
       CAST(SUM(s.failures) AS BIGINT) AS failures,
       CAST(SUM(s.bytes) AS BIGINT) AS bytes,
       CAST(SUM(s.duration_ms) AS BIGINT) AS duration_ms,
       CAST(SUM(s.failures_source) AS BIGINT) AS failures_source,
       CAST(SUM(s.failures_destination) AS BIGINT) AS failures_destination,
       CAST(SUM(s.failures_transfer) AS BIGINT) AS failures_transfer,
       CAST(SUM(s.failures_other) AS BIGINT) AS failures_other
FROM transfer_stats_10m s
GROUP BY 1, 2, 3, 4, 5
