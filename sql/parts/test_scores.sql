-- part: test_scores
-- Tests taken on the business date (one row per student who took any). score_sum is kept so that class-level
-- averages weight every test equally instead of averaging the students' averages.
SELECT
  student_id,
  COUNT(*) AS tests_taken,
  SUM(score) AS score_sum,
  AVG(score) AS average_score,
  MAX(score) AS best_score
FROM {{ table "test_results" }}
WHERE event_date = {{ business_date }}
GROUP BY student_id
