-- name: get_latest_final_care_plan^
-- The newest signed version of a case's care plan.
SELECT id, version, signed_at
FROM care_plan
WHERE case_id = :case_id AND status = 'final'
ORDER BY version DESC
LIMIT 1;

-- name: upsert_care_plan_follow_up!
-- Record (or correct) whether a signed version was implemented.
INSERT INTO care_plan_follow_up (care_plan_id, implementation, reason, reason_text, recorded_by)
VALUES (:care_plan_id, :implementation, :reason, :reason_text, :recorded_by)
ON CONFLICT (care_plan_id) DO UPDATE
SET implementation = EXCLUDED.implementation, reason = EXCLUDED.reason, reason_text = EXCLUDED.reason_text,
    recorded_by = EXCLUDED.recorded_by, recorded_at = now();

-- name: get_care_plan_follow_up^
-- The follow-up recorded for a signed version.
SELECT cp.case_id, f.care_plan_id, cp.version, f.implementation, f.reason, f.reason_text, f.recorded_by,
       f.recorded_at
FROM care_plan_follow_up f
JOIN care_plan cp ON cp.id = f.care_plan_id
WHERE f.care_plan_id = :care_plan_id;

-- name: list_follow_up_report_rows
-- The newest signed version of each case a board discussed at meetings in [period_start, period_end]
-- (UTC dates), with its follow-up if any.
WITH signed AS (
    SELECT DISTINCT ON (cp.case_id)
           cp.id, cp.case_id, cp.version, cp.signed_at, m.starts_at AS meeting_starts_at, c.presenter_id
    FROM care_plan cp
    JOIN patient_case c ON c.id = cp.case_id
    JOIN meeting m ON m.id = c.meeting_id
    WHERE cp.status = 'final'
      AND m.board_id = :board_id
      AND m.starts_at >= (:period_start::date)::timestamp AT TIME ZONE 'UTC'
      AND m.starts_at < (:period_end::date + 1)::timestamp AT TIME ZONE 'UTC'
    ORDER BY cp.case_id, cp.version DESC
)
SELECT s.id AS care_plan_id, s.case_id, s.version, s.signed_at, s.meeting_starts_at, s.presenter_id,
       u.full_name AS presenter_name, f.implementation, f.reason
FROM signed s
JOIN app_user u ON u.id = s.presenter_id
LEFT JOIN care_plan_follow_up f ON f.care_plan_id = s.id
ORDER BY s.signed_at, s.case_id;
