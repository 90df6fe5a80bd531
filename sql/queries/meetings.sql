-- name: insert_meeting<!
-- Create a meeting.
INSERT INTO meeting (board_id, starts_at, duration_minutes, location, video_url, capacity, submission_deadline)
VALUES (:board_id, :starts_at, :duration_minutes, :location, :video_url, :capacity, :submission_deadline)
RETURNING id;

-- name: get_meeting^
-- One meeting with its board's name and requirements.
SELECT m.id, m.board_id, b.name AS board_name, b.required_disciplines, m.starts_at, m.duration_minutes,
       m.location, m.video_url, m.capacity, m.case_count, m.submission_deadline, m.status, m.created_at
FROM meeting m
JOIN board b ON b.id = m.board_id
WHERE m.id = :id;

-- name: lock_meeting^
-- Lock a meeting row before changing what hangs on it.
SELECT id, status FROM meeting WHERE id = :id FOR UPDATE;

-- name: list_meetings
-- Meetings by start time, filtered, keyset-paginated.
SELECT m.id, m.board_id, b.name AS board_name, m.starts_at, m.duration_minutes, m.location, m.video_url,
       m.capacity, m.case_count, m.submission_deadline, m.status, m.created_at
FROM meeting m
JOIN board b ON b.id = m.board_id
WHERE (:board_id::uuid IS NULL OR m.board_id = :board_id)
  AND (:starts_from::timestamptz IS NULL OR m.starts_at >= :starts_from)
  AND (:starts_to::timestamptz IS NULL OR m.starts_at < :starts_to)
  AND (:after_starts_at::timestamptz IS NULL OR (m.starts_at, m.id) > (:after_starts_at, :after_id::uuid))
ORDER BY m.starts_at, m.id
LIMIT :limit;

-- name: list_participants
-- A meeting's participants, chair first.
SELECT p.user_id, u.full_name, u.discipline, p.role
FROM meeting_participant p
JOIN app_user u ON u.id = p.user_id
WHERE p.meeting_id = :meeting_id
ORDER BY p.role = 'chair' DESC, u.full_name, u.id;

-- name: get_participant_role$
-- The caller's role on a meeting, if any.
SELECT role FROM meeting_participant WHERE meeting_id = :meeting_id AND user_id = :user_id;

-- name: delete_participants!
-- Clear a meeting's participant list before replacing it.
DELETE FROM meeting_participant WHERE meeting_id = :meeting_id;

-- name: insert_participants!
-- Add participants in one statement.
INSERT INTO meeting_participant (meeting_id, user_id, role)
SELECT :meeting_id, user_id, role
FROM unnest(:user_ids::uuid[], :roles::text[]) AS p (user_id, role);

-- name: list_users_by_id
-- The users named in a participant list.
SELECT id, roles, discipline FROM app_user WHERE id = ANY (:ids::uuid[]) AND is_active;

-- name: list_agenda
-- The cases on a meeting in agenda order.
SELECT c.id, c.status, c.urgency, c.disease_site, c.presenter_id,
       p.given_name || ' ' || p.family_name AS patient_name
FROM patient_case c
JOIN patient p ON p.id = c.patient_id
WHERE c.meeting_id = :meeting_id AND c.status <> 'withdrawn'
ORDER BY c.urgency = 'urgent' DESC, c.discuss_by NULLS LAST, c.created_at, c.id;

-- name: cancel_meeting!
-- Mark a meeting cancelled.
UPDATE meeting SET status = 'cancelled', updated_at = now() WHERE id = :id;

-- name: lock_cases_on_meeting
-- Lock the scheduled cases of a meeting (cases before meetings, always).
SELECT id FROM patient_case WHERE meeting_id = :meeting_id AND status = 'scheduled' ORDER BY id FOR UPDATE;

-- name: return_cases_to_waiting!
-- Send a cancelled meeting's scheduled cases back to the waiting list.
UPDATE patient_case
SET status = 'submitted', meeting_id = NULL, assignment_note = :note, updated_at = now()
WHERE meeting_id = :meeting_id AND status = 'scheduled';
