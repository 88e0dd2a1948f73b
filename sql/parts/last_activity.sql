-- part: last_activity
-- When each student last did anything (a session's end or a test) up to the end of the business date,
-- looking back 30 days; older activity shows as "not recently active" (NULL).
SELECT
  student_id,
  MAX(active_at) AS last_active_at
FROM (
  SELECT
    student_id,
    event_date,
-- dialect: duckdb
    -- In microseconds: TIMESTAMPTZ + INTERVAL goes through ICU's calendar per row, ten times slower.
    make_timestamptz(epoch_us(started_at) + CAST(minutes AS BIGINT) * 60000000) AS active_at
-- dialect: bigquery
    TIMESTAMP_ADD(started_at, INTERVAL minutes MINUTE) AS active_at
-- dialect: end
  FROM {{ table "study_sessions" }}
  UNION ALL
  SELECT student_id, event_date, taken_at AS active_at
  FROM {{ table "test_results" }}
) AS activity
WHERE event_date <= {{ business_date }}
-- dialect: duckdb
  AND event_date > {{ business_date }} - INTERVAL 30 DAY
-- dialect: bigquery
  AND event_date > DATE_SUB({{ business_date }}, INTERVAL 30 DAY)
-- dialect: end
GROUP BY student_id
