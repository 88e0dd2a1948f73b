-- part: study_minutes_by_subject
-- Minutes studied on the business date, in total and per subject (one row per student who studied).
-- SUM(CASE …) rather than DuckDB's FILTER clause or BigQuery's COUNTIF, so one text serves both dialects.
SELECT
  student_id,
  SUM(minutes) AS study_minutes,
  SUM(CASE WHEN subject = 'math' THEN minutes ELSE 0 END) AS math_minutes,
  SUM(CASE WHEN subject = 'language' THEN minutes ELSE 0 END) AS language_minutes,
  SUM(CASE WHEN subject = 'science' THEN minutes ELSE 0 END) AS science_minutes
FROM {{ table "study_sessions" }}
WHERE event_date = {{ business_date }}
GROUP BY student_id
