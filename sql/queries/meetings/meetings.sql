-- name: insert_meeting$
-- Create a meeting; minutes per case default to the board's, the agenda lock lead time is the board's.
INSERT INTO meeting (board_id, starts_at, duration_minutes, location, video_url, capacity, submission_deadline,
                     minutes_per_case, agenda_lock_hours)
SELECT b.id, :starts_at, :duration_minutes, :location, :video_url, :capacity, :submission_deadline,
       coalesce(:minutes_per_case, b.minutes_per_case), b.agenda_lock_hours
FROM board b
WHERE b.id = :board_id
RETURNING id;

-- name: get_meeting^
-- One meeting with its board's name and requirements.
SELECT m.id, m.board_id, b.name AS board_name, b.required_disciplines, m.starts_at, m.duration_minutes,
       m.location, m.video_url, m.capacity, m.case_count, m.submission_deadline, m.status, m.created_at
FROM meeting m
JOIN board b ON b.id = m.board_id
WHERE m.id = :id;

-- name: get_meeting_detail^
-- One meeting with everything its page, agenda and invite show.
SELECT m.id, m.board_id, b.name AS board_name, b.required_disciplines, b.time_zone, m.starts_at,
       m.duration_minutes, m.location, m.video_url, m.capacity, m.case_count, m.submission_deadline,
       m.status, m.created_at, m.updated_at, m.minutes_per_case, m.booked_minutes, m.series_id,
       m.occurrence_on, m.agenda_locks_at, m.agenda_locked_at, m.agenda_sent_at, m.sequence,
       m.started_at, m.closed_at, m.current_case_id, m.current_case_since
FROM meeting m
JOIN board b ON b.id = m.board_id
WHERE m.id = :id;

-- name: lock_meeting^
-- Lock a meeting row before changing what hangs on it.
SELECT m.id, m.status, m.starts_at, m.submission_deadline, m.agenda_locked_at, m.series_id,
       b.required_disciplines, b.time_zone
FROM meeting m
JOIN board b ON b.id = m.board_id
WHERE m.id = :id
FOR UPDATE OF m;

-- name: list_meetings
-- The meetings a caller may see by start time, filtered, keyset-paginated: all of them for those who
-- see all (coordinators), else those they take part in and those holding a case they present. The
-- video link only for coordinators and the meeting's participants.
SELECT m.id, m.board_id, b.name AS board_name, m.starts_at, m.duration_minutes, m.location,
       CASE WHEN :sees_all OR mp.user_id IS NOT NULL THEN m.video_url END AS video_url,
       m.capacity, m.case_count, m.submission_deadline, m.status, m.created_at, b.time_zone,
       m.minutes_per_case, m.booked_minutes, m.series_id, m.occurrence_on, m.agenda_locks_at,
       m.agenda_locked_at
FROM meeting m
JOIN board b ON b.id = m.board_id
LEFT JOIN meeting_participant mp ON mp.meeting_id = m.id AND mp.user_id = :user_id
WHERE (:sees_all OR mp.user_id IS NOT NULL OR EXISTS (
          SELECT 1 FROM patient_case c
          WHERE c.meeting_id = m.id AND c.presenter_id = :user_id AND c.status <> 'withdrawn'))
  AND (:board_id::uuid IS NULL OR m.board_id = :board_id)
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

-- name: mark_own_participants!
-- An occurrence whose participants were set by hand keeps them when its series' list changes.
UPDATE meeting SET own_participants = true, updated_at = now() WHERE id = :id AND series_id IS NOT NULL;

-- name: list_users_by_id
-- The users named in a participant list.
SELECT id, roles, discipline FROM app_user WHERE id = ANY (:ids::uuid[]) AND is_active;

-- name: cancel_meeting!
-- Mark a meeting cancelled (calendar clients see a new sequence number).
UPDATE meeting SET status = 'cancelled', sequence = sequence + 1, updated_at = now() WHERE id = :id;

-- name: lock_cases_on_meeting
-- Lock the scheduled cases of a meeting (cases before meetings, always).
SELECT id FROM patient_case WHERE meeting_id = :meeting_id AND status = 'scheduled' ORDER BY id FOR UPDATE;

-- name: return_cases_to_waiting!
-- Send a meeting's scheduled cases back to the waiting list (cancelled, or quorum lost).
UPDATE patient_case
SET status = :to_status, meeting_id = NULL, assignment_note = :note, updated_at = now()
WHERE meeting_id = :meeting_id AND status = ANY (:from_statuses::text[]);

-- name: return_late_cases_to_waiting$
-- Send back the scheduled cases whose discuss-by date is before the meeting's (new) date.
WITH returned AS (
    UPDATE patient_case
    SET status = :to_status, meeting_id = NULL, assignment_note = :note, updated_at = now()
    WHERE meeting_id = :meeting_id AND status = ANY (:from_statuses::text[]) AND discuss_by < :meeting_on
    RETURNING id
)
SELECT count(*) FROM returned;

-- name: update_meeting!
-- Move or reshape a meeting (NULL keeps a value; the clear_ flags empty location and video link).
UPDATE meeting
SET starts_at = coalesce(:starts_at, starts_at),
    duration_minutes = coalesce(:duration_minutes, duration_minutes),
    location = CASE WHEN :clear_location THEN NULL ELSE coalesce(:location, location) END,
    video_url = CASE WHEN :clear_video_url THEN NULL ELSE coalesce(:video_url, video_url) END,
    capacity = coalesce(:capacity, capacity),
    minutes_per_case = coalesce(:minutes_per_case, minutes_per_case),
    submission_deadline = coalesce(:submission_deadline, submission_deadline),
    agenda_locked_at = CASE WHEN :reopen_agenda THEN NULL ELSE agenda_locked_at END,
    agenda_sent_at = CASE WHEN :reopen_agenda THEN NULL ELSE agenda_sent_at END,
    sequence = sequence + 1,
    updated_at = now()
WHERE id = :id;

-- name: delete_agenda_items!
-- Forget a frozen agenda (the meeting moved far enough to reopen it).
DELETE FROM agenda_item WHERE meeting_id = :meeting_id;
