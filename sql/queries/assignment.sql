-- name: lock_waiting_case^
-- Lock a case that is still waiting for a meeting.
SELECT id, disease_site, urgency, discuss_by
FROM patient_case
WHERE id = :id AND status = 'submitted'
FOR UPDATE;

-- name: list_eligible_meetings
-- Meetings that satisfy every assignment rule for a case, earliest first.
SELECT m.id
FROM meeting m
JOIN board b ON b.id = m.board_id
WHERE :disease_site = ANY (b.disease_sites)
  AND m.status = 'scheduled'
  AND m.starts_at > now()
  AND (:discuss_by::date IS NULL OR m.starts_at < ((:discuss_by::date + 1)::timestamp AT TIME ZONE 'UTC'))
  AND (:urgency = 'urgent' OR m.submission_deadline > now())
  AND m.case_count < m.capacity
  AND b.required_disciplines <@ ARRAY(
      SELECT u.discipline
      FROM meeting_participant p
      JOIN app_user u ON u.id = p.user_id
      WHERE p.meeting_id = m.id AND u.discipline IS NOT NULL)
ORDER BY m.starts_at, m.id
LIMIT 20;

-- name: lock_meeting_with_room^
-- Lock a meeting that is still open and has room; NULL when it no longer qualifies.
SELECT id FROM meeting
WHERE id = :id AND status = 'scheduled' AND starts_at > now() AND case_count < capacity
FOR UPDATE;

-- name: place_case!
-- Put a case on a meeting (the trigger counts it against capacity).
UPDATE patient_case
SET meeting_id = :meeting_id, status = 'scheduled', assignment_note = NULL, updated_at = now()
WHERE id = :id;

-- name: set_assignment_note!
-- Say why a waiting case has no meeting yet.
UPDATE patient_case SET assignment_note = :note, updated_at = now()
WHERE id = :id AND assignment_note IS DISTINCT FROM :note;

-- name: explain_no_meeting^
-- How many meetings pass each assignment rule in turn, to explain a waiting case.
WITH site_meeting AS (
    SELECT m.*, b.required_disciplines,
           (:discuss_by::date IS NULL
            OR m.starts_at < ((:discuss_by::date + 1)::timestamp AT TIME ZONE 'UTC')) AS in_time,
           (:urgency = 'urgent' OR m.submission_deadline > now()) AS open,
           m.case_count < m.capacity AS has_room,
           b.required_disciplines <@ ARRAY(
               SELECT u.discipline FROM meeting_participant p JOIN app_user u ON u.id = p.user_id
               WHERE p.meeting_id = m.id AND u.discipline IS NOT NULL) AS quorate
    FROM meeting m
    JOIN board b ON b.id = m.board_id
    WHERE :disease_site = ANY (b.disease_sites) AND m.status = 'scheduled' AND m.starts_at > now()
)
SELECT (SELECT count(*) FROM board WHERE :disease_site = ANY (disease_sites)) AS boards,
       count(*) AS upcoming,
       count(*) FILTER (WHERE in_time) AS in_time,
       count(*) FILTER (WHERE in_time AND open) AS open,
       count(*) FILTER (WHERE in_time AND open AND has_room) AS with_room
FROM site_meeting;

-- name: list_waiting_case_ids
-- Waiting cases in priority order: urgent first, then earliest discuss-by, then oldest.
SELECT id FROM patient_case
WHERE status = 'submitted'
ORDER BY urgency = 'urgent' DESC, discuss_by NULLS LAST, created_at, id
LIMIT :limit;
