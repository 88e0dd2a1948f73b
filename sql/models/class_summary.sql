-- model: class_summary
-- Per class per business date, from the same student_day part as the dashboard, so the two always agree
-- (a class's total minutes is the sum of its students' minutes by construction).
-- include: student_day
SELECT
  CAST(class_id AS {{ type "integer" }}) AS class_id,
  CAST(school_id AS {{ type "integer" }}) AS school_id,
  {{ business_date }} AS business_date,
  CAST(SUM(CASE WHEN is_active THEN 1 ELSE 0 END) AS {{ type "integer" }}) AS active_students,
  CAST(SUM(study_minutes) AS {{ type "bigint" }}) AS total_study_minutes,
  CAST(ROUND(SUM(score_sum) / NULLIF(SUM(tests_taken), 0), 2) AS {{ type "numeric(5,2)" }}) AS average_score,
  CAST(SUM(tests_taken) AS {{ type "integer" }}) AS tests_taken
FROM student_day
GROUP BY class_id, school_id
ORDER BY class_id
