-- part: student_day
-- One row per enrolled student for the business date with every figure both models need; the single place
-- where "active" is defined (studied or took a test that day).
-- include: enrolled_students
-- include: study_minutes_by_subject
-- include: test_scores
-- include: last_activity
SELECT
  e.student_id,
  e.class_id,
  e.school_id,
  COALESCE(m.study_minutes, 0) AS study_minutes,
  COALESCE(m.math_minutes, 0) AS math_minutes,
  COALESCE(m.language_minutes, 0) AS language_minutes,
  COALESCE(m.science_minutes, 0) AS science_minutes,
  COALESCE(t.tests_taken, 0) AS tests_taken,
  t.score_sum,
  t.average_score,
  t.best_score,
  l.last_active_at,
  (m.student_id IS NOT NULL OR t.student_id IS NOT NULL) AS is_active
FROM enrolled_students AS e
LEFT JOIN study_minutes_by_subject AS m ON m.student_id = e.student_id
LEFT JOIN test_scores AS t ON t.student_id = e.student_id
LEFT JOIN last_activity AS l ON l.student_id = e.student_id
