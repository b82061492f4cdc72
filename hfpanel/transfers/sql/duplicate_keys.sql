-- How many keys occur more than once among the rows about to be aggregated (input: candidates).
SELECT COUNT(*) AS keys
FROM (SELECT c.key FROM candidates c GROUP BY c.key HAVING COUNT(*) > 1) d
