-- name: set_report_time_limit!
-- Bound every statement of the report's transaction (milliseconds, as text).
SELECT set_config('statement_timeout', :milliseconds, true);

-- name: list_presentations
-- The board's presentations in [period_start, period_end] (days in the board's time zone): each case
-- decided at one of its meetings whose first decision there (revision 1) was recorded on a day of the
-- period, with what the report counts of it: the latest correction's content, days from submission,
-- hours to the first signature of a version built from it, and the follow-up of the case's newest
-- signed version.
WITH period AS (
    SELECT b.time_zone,
           (:period_start::date)::timestamp AT TIME ZONE b.time_zone AS starts_at,
           (:period_end::date + 1)::timestamp AT TIME ZONE b.time_zone AS ends_at
    FROM board b
    WHERE b.id = :board_id
), presented AS (
    -- The bounds as scalar subqueries, known when the scan starts: the board's first decisions of
    -- the period come from one range of board_decision_board_opening_idx, whatever the board's
    -- history before or after it.
    SELECT opening.id, opening.case_id, opening.meeting_id, opening.decided_at, opening.outcome,
           opening.stage_discussed, opening.guideline, opening.trial_status
    FROM board_decision opening
    WHERE opening.board_id = :board_id
      AND opening.revision = 1
      AND opening.decided_at >= (SELECT starts_at FROM period)
      AND opening.decided_at < (SELECT ends_at FROM period)
)
SELECT pr.meeting_id,
       latest.outcome,
       c.treatment_started,
       latest.stage_discussed,
       (latest.guideline ->> 'concordant')::boolean AS guideline_concordant,
       latest.trial_status,
       (pr.decided_at AT TIME ZONE period.time_zone)::date
           - (c.created_at AT TIME ZONE period.time_zone)::date AS days_to_decision,
       (extract(epoch FROM signature.signed_at - pr.decided_at) / 3600)::float8 AS hours_to_signature,
       follow_up.implementation,
       follow_up.reason
FROM presented pr
CROSS JOIN period
JOIN patient_case c ON c.id = pr.case_id
CROSS JOIN LATERAL (
    -- The first decision, or its latest correction at the same meeting: corrections are few, and
    -- board_decision_correction_idx holds only them, so a decision never corrected costs no read.
    SELECT d.outcome, d.stage_discussed, d.guideline, d.trial_status
    FROM (SELECT 1, pr.outcome, pr.stage_discussed, pr.guideline, pr.trial_status
          UNION ALL
          SELECT d.revision, d.outcome, d.stage_discussed, d.guideline, d.trial_status
          FROM board_decision d
          WHERE d.case_id = pr.case_id AND d.meeting_id = pr.meeting_id AND d.revision > 1
         ) AS d (revision, outcome, stage_discussed, guideline, trial_status)
    ORDER BY d.revision DESC
    LIMIT 1
) latest
CROSS JOIN LATERAL (
    -- Built from the first decision or one of its corrections at this meeting.
    SELECT min(cp.signed_at) AS signed_at
    FROM care_plan cp
    WHERE cp.case_id = pr.case_id
      AND cp.status = 'final'
      AND (cp.decision_id = pr.id
           OR cp.decision_id IN (SELECT d.id FROM board_decision d
                                 WHERE d.case_id = pr.case_id AND d.meeting_id = pr.meeting_id
                                   AND d.revision > 1))
) signature
LEFT JOIN LATERAL (
    SELECT f.implementation, f.reason
    FROM care_plan newest
    LEFT JOIN care_plan_follow_up f ON f.care_plan_id = newest.id
    WHERE newest.case_id = pr.case_id AND newest.status = 'final'
    ORDER BY newest.version DESC
    LIMIT 1
) follow_up ON signature.signed_at IS NOT NULL
ORDER BY pr.decided_at, pr.case_id;

-- name: list_report_meetings
-- The period's meetings of the board, in order: those held (started) on a day of the period in the
-- board's time zone, and those where a decision of the period was recorded; each with the discipline
-- of every participant recorded present.
SELECT m.id,
       (m.starts_at AT TIME ZONE b.time_zone)::date AS held_on,
       coalesce(array_agg(u.discipline ORDER BY u.discipline) FILTER (WHERE u.discipline IS NOT NULL),
                '{}') AS present
FROM board b
JOIN meeting m ON m.board_id = b.id
LEFT JOIN meeting_attendance a ON a.meeting_id = m.id AND a.status = 'present'
LEFT JOIN app_user u ON u.id = a.user_id
WHERE b.id = :board_id
  AND ((m.status IN ('in_progress', 'closed')
        AND m.starts_at >= (:period_start::date)::timestamp AT TIME ZONE b.time_zone
        AND m.starts_at < (:period_end::date + 1)::timestamp AT TIME ZONE b.time_zone)
       OR m.id = ANY (:decision_meeting_ids::uuid[]))
GROUP BY m.id, b.time_zone
ORDER BY m.starts_at, m.id;
