-- part: enrolled_students
-- Every student enrolled on the business date, with their class and school. Inactive students are kept:
-- a dashboard shows them with zero minutes rather than hiding them.
SELECT
  s.student_id,
  c.class_id,
  c.school_id
FROM {{ table "students" }} AS s
JOIN {{ table "classes" }} AS c ON c.class_id = s.class_id
WHERE s.enrolled_on <= {{ business_date }}
