-- name: lock_meeting_for_decision^
-- The meeting a decision is recorded at, with its board's requirements; shared-locked so it cannot
-- close while the decision is being recorded (cases are locked first, always).
SELECT m.id, m.status, m.starts_at, b.required_disciplines, b.time_zone
FROM meeting m
JOIN board b ON b.id = m.board_id
WHERE m.id = :id
FOR SHARE OF m;

-- name: get_last_decision_meeting$
-- The meeting of a case's latest recorded decision (where a deferred case was last discussed).
SELECT meeting_id FROM board_decision WHERE case_id = :case_id ORDER BY decided_at DESC, revision DESC LIMIT 1;

-- name: get_current_decision^
-- The current decision on a case at a meeting, with the name of the chair who recorded it.
SELECT d.id, d.case_id, d.meeting_id, d.revision, d.outcome, d.intent, d.modalities, d.summary, d.rationale,
       d.guideline, d.trial_status, d.trial_id, d.stage_discussed, d.quorum_required, d.quorum_covered,
       d.quorum_missing, d.quorum_override, d.attendance, d.decided_by, u.full_name AS decided_by_name,
       d.decided_at
FROM current_board_decision d
JOIN app_user u ON u.id = d.decided_by
WHERE d.case_id = :case_id AND d.meeting_id = :meeting_id;

-- name: list_case_decisions
-- Every decision recorded on a case, oldest first: deferrals at earlier meetings and corrections too.
SELECT d.id, d.case_id, d.meeting_id, d.revision, d.outcome, d.intent, d.modalities, d.summary, d.rationale,
       d.guideline, d.trial_status, d.trial_id, d.stage_discussed, d.quorum_required, d.quorum_covered,
       d.quorum_missing, d.quorum_override, d.attendance, d.decided_by, u.full_name AS decided_by_name,
       d.decided_at
FROM board_decision d
JOIN app_user u ON u.id = d.decided_by
WHERE d.case_id = :case_id
ORDER BY d.decided_at, d.revision;

-- name: insert_decision$
-- Record a decision (a new revision for the case and meeting); UNIQUE refuses a duplicate revision.
INSERT INTO board_decision (
    case_id, meeting_id, revision, outcome, intent, modalities, summary, rationale, guideline, trial_status,
    trial_id, stage_discussed, quorum_required, quorum_covered, quorum_missing, quorum_override, attendance,
    decided_by)
VALUES (
    :case_id, :meeting_id, :revision, :outcome, :intent, :modalities, :summary, :rationale, :guideline,
    :trial_status, :trial_id, :stage_discussed, :quorum_required, :quorum_covered, :quorum_missing,
    :quorum_override, :attendance, :decided_by)
RETURNING id;

-- name: mark_case_decided!
-- The board recorded its plan: the case is discussed; note the required disciplines that had not recommended.
UPDATE patient_case
SET status = :to_status, absent_disciplines = :absent_disciplines, discussion_closed_at = now(),
    updated_at = now()
WHERE id = :id AND status = ANY (:from_statuses::text[]);

-- name: requeue_deferred_case!
-- The board deferred the case: it leaves the meeting and waits, first in line, with the reason as its note.
UPDATE patient_case
SET status = :to_status, meeting_id = NULL, assignment_note = :note, requeued_at = now(),
    discussion_closed_at = NULL, updated_at = now()
WHERE id = :id AND status = ANY (:from_statuses::text[]);

-- name: requeue_undecided_cases
-- The meeting closed: the cases the board did not decide leave it and wait first in line; returns
-- each with its presenter.
UPDATE patient_case
SET status = :to_status, meeting_id = NULL, assignment_note = :note, requeued_at = now(), updated_at = now()
WHERE meeting_id = :meeting_id AND status = ANY (:from_statuses::text[])
RETURNING id, presenter_id;
