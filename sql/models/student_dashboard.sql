-- model: student_dashboard
-- Per student per business date. Column names and types are the target contract (targets/student_dashboard.json);
-- every column is cast explicitly so the Parquet schema does not depend on what an aggregate happens to return.
-- include: student_day
SELECT
  CAST(student_id AS {{ type "bigint" }}) AS student_id,
  CAST(school_id AS {{ type "integer" }}) AS school_id,
  CAST(class_id AS {{ type "integer" }}) AS class_id,
  {{ business_date }} AS business_date,
  CAST(study_minutes AS {{ type "integer" }}) AS study_minutes,
  CAST(math_minutes AS {{ type "integer" }}) AS math_minutes,
  CAST(language_minutes AS {{ type "integer" }}) AS language_minutes,
  CAST(science_minutes AS {{ type "integer" }}) AS science_minutes,
  CAST(tests_taken AS {{ type "smallint" }}) AS tests_taken,
  CAST(ROUND(average_score, 2) AS {{ type "numeric(5,2)" }}) AS average_score,
  CAST(ROUND(best_score, 2) AS {{ type "numeric(5,2)" }}) AS best_score,
  CAST(last_active_at AS {{ type "timestamptz" }}) AS last_active_at
FROM student_day
ORDER BY student_id
