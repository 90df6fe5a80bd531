-- name: list_board_sites
-- The disease sites of every board, to find which sites compete for the same meetings.
SELECT disease_sites FROM board;

-- name: get_waiting_case_site$
-- The disease site of a case that is still waiting for a meeting.
SELECT disease_site FROM patient_case WHERE id = :id AND status = 'submitted';

-- name: list_waiting_sites$
-- The disease sites that have cases waiting for a meeting.
SELECT coalesce(array_agg(DISTINCT disease_site), '{}') FROM patient_case WHERE status = 'submitted';

-- name: list_waiting_sites_of$
-- The disease sites of those of some cases that still wait for a meeting. Each case is looked up by
-- its key on its own (the subquery is not flattened), so the plan does not depend on what the
-- statistics say of the waiting cases: a table that grew since its last ANALYZE would otherwise be
-- read through patient_case_waiting_idx, every waiting case for each batch.
SELECT coalesce(array_agg(DISTINCT c.disease_site), '{}')
FROM unnest(:ids::uuid[]) AS asked (id)
CROSS JOIN LATERAL (
    SELECT disease_site FROM patient_case WHERE id = asked.id AND status = 'submitted' OFFSET 0
) c;

-- name: get_meeting_sites$
-- The disease sites of a meeting's board (NULL when there is no such meeting).
SELECT b.disease_sites FROM meeting m JOIN board b ON b.id = m.board_id WHERE m.id = :id;

-- name: lock_assignment_sites$
-- Serialise assignment passes over the same sites (transaction-scoped advisory lock).
SELECT pg_advisory_xact_lock(hashtextextended('assignment:' || :key, 0)) IS NOT NULL;

-- name: try_lock_assignment_sites$
-- Like lock_assignment_sites, but answer false at once when another pass holds the lock.
SELECT pg_try_advisory_xact_lock(hashtextextended('assignment:' || :key, 0));

-- name: begin_assignment_pass!
-- Record, under the group's lock, that a pass over it begins now.
INSERT INTO assignment_pass (group_key, started_at) VALUES (:key, clock_timestamp())
ON CONFLICT (group_key) DO UPDATE SET started_at = EXCLUDED.started_at;

-- name: get_assignment_pass^
-- When the last committed full pass over a group began, and the digest of the meetings as the
-- last pass (full or not) left them.
SELECT started_at, meetings_digest FROM assignment_pass WHERE group_key = :key;

-- name: record_assignment_digest!
-- Remember, under the group's lock, the digest of its meetings as this pass leaves them.
UPDATE assignment_pass SET meetings_digest = :digest WHERE group_key = :key;

-- name: get_wall_clock$
-- The database's clock now (not the transaction's start).
SELECT clock_timestamp();

-- name: get_assignment_clock$
-- The transaction's clock, so that every rule of one pass uses the same now.
SELECT now();

-- name: lock_waiting_cases
-- Waiting cases of some disease sites in priority order (urgent first, then those a board returned,
-- then by discuss-by date and age), locked, with any deferral not yet settled.
SELECT c.id, c.disease_site, c.urgency, c.discuss_by, c.created_at, c.assignment_note,
       d.missing_items AS deferred_missing, dm.starts_at AS deferred_from_starts_at,
       db.time_zone AS deferred_from_time_zone
FROM patient_case c
LEFT JOIN LATERAL (
    SELECT meeting_id, missing_items FROM agenda_deferral
    WHERE case_id = c.id AND placed_on_meeting_id IS NULL
    ORDER BY deferred_at DESC
    LIMIT 1
) d ON true
LEFT JOIN meeting dm ON dm.id = d.meeting_id
LEFT JOIN board db ON db.id = dm.board_id
WHERE c.status = 'submitted' AND c.disease_site = ANY (:sites::text[])
ORDER BY c.urgency = 'urgent' DESC, c.requeued_at NULLS LAST, c.discuss_by NULLS LAST, c.created_at, c.id
LIMIT :limit
FOR UPDATE OF c;

-- name: lock_cases_to_assign
-- The waiting cases of some disease sites that no pass has looked at yet (no note), and those of
-- some cases that still wait, in priority order, locked (in the order of their ids), with any
-- deferral not yet settled (the same shape as lock_waiting_cases). The first come from
-- patient_case_unassessed_idx (PostgreSQL keeps no statistics of the note, migration 0018, so it
-- never takes them for most of the table); then each case is looked up and locked by its key on
-- its own, so that, as in list_waiting_sites_of, the plan holds whatever the statistics say.
WITH asked AS (
    SELECT id FROM unnest(:ids::uuid[]) AS id
    UNION
    SELECT id FROM patient_case
    WHERE status = 'submitted' AND assignment_note IS NULL AND disease_site = ANY (:sites::text[])
    ORDER BY id
)
SELECT c.id, c.disease_site, c.urgency, c.discuss_by, c.created_at, c.assignment_note,
       d.missing_items AS deferred_missing, dm.starts_at AS deferred_from_starts_at,
       db.time_zone AS deferred_from_time_zone
FROM asked
CROSS JOIN LATERAL (
    SELECT id, disease_site, urgency, discuss_by, created_at, assignment_note, requeued_at
    FROM patient_case
    WHERE id = asked.id AND status = 'submitted' AND disease_site = ANY (:sites::text[])
    FOR UPDATE
) c
LEFT JOIN LATERAL (
    SELECT meeting_id, missing_items FROM agenda_deferral
    WHERE case_id = c.id AND placed_on_meeting_id IS NULL
    ORDER BY deferred_at DESC
    LIMIT 1
) d ON true
LEFT JOIN meeting dm ON dm.id = d.meeting_id
LEFT JOIN board db ON db.id = dm.board_id
ORDER BY c.urgency = 'urgent' DESC, c.requeued_at NULLS LAST, c.discuss_by NULLS LAST, c.created_at, c.id;

-- name: lock_upcoming_meetings
-- Scheduled future meetings of boards covering some disease sites, locked, with what they cover.
SELECT m.id, b.disease_sites, b.time_zone, b.required_disciplines, m.starts_at, m.submission_deadline,
       m.capacity, m.case_count, m.duration_minutes, m.booked_minutes, m.minutes_per_case,
       m.agenda_locked_at IS NOT NULL AS agenda_locked,
       ARRAY(SELECT DISTINCT u.discipline
             FROM meeting_participant p
             JOIN app_user u ON u.id = p.user_id
             WHERE p.meeting_id = m.id AND u.discipline IS NOT NULL) AS covered_disciplines
FROM meeting m
JOIN board b ON b.id = m.board_id
WHERE b.disease_sites && :sites::text[] AND m.status = 'scheduled' AND m.starts_at > now()
ORDER BY m.id
FOR UPDATE OF m;

-- name: place_cases!
-- Put waiting cases on meetings in one statement (the trigger counts them against capacity).
UPDATE patient_case c
SET meeting_id = p.meeting_id, status = :to_status, assignment_note = p.note, updated_at = now()
FROM unnest(:ids::uuid[], :meeting_ids::uuid[], :notes::text[]) AS p (id, meeting_id, note)
WHERE c.id = p.id AND c.status = ANY (:from_statuses::text[]);

-- name: note_waiting_cases!
-- Say why waiting cases have no meeting yet (rows whose note is unchanged are not touched). The pass
-- locked them as waiting cases, so they still are: the rows are found by their key only, as a
-- condition on the status would let PostgreSQL read every waiting case through
-- patient_case_waiting_idx when its statistics are stale (see list_waiting_sites_of).
UPDATE patient_case c
SET assignment_note = n.note, updated_at = now()
FROM unnest(:ids::uuid[], :notes::text[]) AS n (id, note)
WHERE c.id = n.id AND c.id = ANY (:ids::uuid[]) AND c.assignment_note IS DISTINCT FROM n.note;

-- name: settle_deferrals!
-- Record on which meeting deferred cases landed.
UPDATE agenda_deferral d
SET placed_on_meeting_id = p.meeting_id
FROM unnest(:case_ids::uuid[], :meeting_ids::uuid[]) AS p (case_id, meeting_id)
WHERE d.case_id = p.case_id AND d.placed_on_meeting_id IS NULL;

-- name: record_assignments!
-- One audit event per case the engine placed.
INSERT INTO audit_event (actor_id, action, subject_type, subject_id, outcome)
SELECT NULL, 'assign', 'case', id, 'allowed'
FROM unnest(:case_ids::uuid[]) AS id;

-- name: lock_case_for_move^
-- Lock a case a coordinator moves by hand, with what the assignment rule needs.
SELECT c.id, c.status, c.meeting_id, c.disease_site, c.urgency, c.discuss_by, c.assignment_note,
       d.missing_items AS deferred_missing, dm.starts_at AS deferred_from_starts_at,
       db.time_zone AS deferred_from_time_zone
FROM patient_case c
LEFT JOIN LATERAL (
    SELECT meeting_id, missing_items FROM agenda_deferral
    WHERE case_id = c.id AND placed_on_meeting_id IS NULL
    ORDER BY deferred_at DESC
    LIMIT 1
) d ON true
LEFT JOIN meeting dm ON dm.id = d.meeting_id
LEFT JOIN board db ON db.id = dm.board_id
WHERE c.id = :id
FOR UPDATE OF c;

-- name: lock_meeting_for_move^
-- A meeting with what the assignment rule needs, locked, for a move by hand.
SELECT m.id, m.status, b.disease_sites, b.time_zone, b.required_disciplines, m.starts_at,
       m.submission_deadline, m.capacity, m.case_count, m.duration_minutes, m.booked_minutes,
       m.minutes_per_case, m.agenda_locked_at IS NOT NULL AS agenda_locked,
       ARRAY(SELECT DISTINCT u.discipline
             FROM meeting_participant p
             JOIN app_user u ON u.id = p.user_id
             WHERE p.meeting_id = m.id AND u.discipline IS NOT NULL) AS covered_disciplines
FROM meeting m
JOIN board b ON b.id = m.board_id
WHERE m.id = :id
FOR UPDATE OF m;

-- name: place_case_by_hand!
-- Put a case on the meeting a coordinator chose.
UPDATE patient_case
SET meeting_id = :meeting_id, status = :to_status, assignment_note = :note, updated_at = now()
WHERE id = :id AND status = ANY (:from_statuses::text[]);
