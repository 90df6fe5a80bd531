-- name: insert_series$
-- Create a board's recurring meeting.
INSERT INTO meeting_series (board_id, recurrence_rule, starts_on, start_time, time_zone, duration_minutes,
                            location, video_url, capacity, minutes_per_case, deadline_hours, horizon_days,
                            created_by)
VALUES (:board_id, :recurrence_rule, :starts_on, :start_time, :time_zone, :duration_minutes, :location,
        :video_url, :capacity, :minutes_per_case, :deadline_hours, :horizon_days, :created_by)
RETURNING id;

-- name: get_series^
-- One series.
SELECT id, board_id, recurrence_rule, starts_on, start_time, time_zone, duration_minutes, location,
       video_url, capacity, minutes_per_case, deadline_hours, horizon_days, generated_until, ended_at,
       created_at
FROM meeting_series
WHERE id = :id;

-- name: lock_series^
-- Lock a series while its occurrences or participants change.
SELECT id, board_id, recurrence_rule, starts_on, start_time, time_zone, horizon_days, ended_at
FROM meeting_series
WHERE id = :id
FOR UPDATE;

-- name: list_board_series
-- A board's series, oldest first.
SELECT id FROM meeting_series WHERE board_id = :board_id ORDER BY created_at, id;

-- name: list_active_series
-- Series still generating occurrences.
SELECT id FROM meeting_series WHERE ended_at IS NULL ORDER BY id;

-- name: list_series_participants
-- The participants every new occurrence of a series starts with, chair first.
SELECT p.user_id, u.full_name, u.discipline, p.role
FROM meeting_series_participant p
JOIN app_user u ON u.id = p.user_id
WHERE p.series_id = :series_id
ORDER BY p.role = 'chair' DESC, u.full_name, u.id;

-- name: delete_series_participants!
-- Clear a series' participant list before replacing it.
DELETE FROM meeting_series_participant WHERE series_id = :series_id;

-- name: insert_series_participants!
-- A series' participant list in one statement.
INSERT INTO meeting_series_participant (series_id, user_id, role)
SELECT :series_id, user_id, role
FROM unnest(:user_ids::uuid[], :roles::text[]) AS p (user_id, role);

-- name: insert_occurrences
-- Occurrences of a series at the given local dates and start times; existing ones are left alone.
INSERT INTO meeting (board_id, series_id, occurrence_on, starts_at, duration_minutes, location, video_url,
                     capacity, submission_deadline, minutes_per_case, agenda_lock_hours)
SELECT s.board_id, s.id, o.occurrence_on, o.starts_at, s.duration_minutes, s.location, s.video_url,
       s.capacity, o.starts_at - make_interval(hours => s.deadline_hours), s.minutes_per_case,
       b.agenda_lock_hours
FROM meeting_series s
JOIN board b ON b.id = s.board_id
CROSS JOIN unnest(:occurrence_dates::date[], :starts::timestamptz[]) AS o (occurrence_on, starts_at)
WHERE s.id = :series_id
ON CONFLICT (series_id, occurrence_on) DO NOTHING
RETURNING id;

-- name: copy_series_participants!
-- New occurrences start with their series' participants.
INSERT INTO meeting_participant (meeting_id, user_id, role)
SELECT m.id, p.user_id, p.role
FROM unnest(:meeting_ids::uuid[]) AS m (id)
CROSS JOIN meeting_series_participant p
WHERE p.series_id = :series_id;

-- name: mark_series_generated!
-- Remember how far ahead a series has been generated.
UPDATE meeting_series SET generated_until = :generated_until, updated_at = now() WHERE id = :id;

-- name: end_series!
-- Stop generating occurrences.
UPDATE meeting_series SET ended_at = now(), updated_at = now() WHERE id = :id AND ended_at IS NULL;

-- name: list_series_occurrences
-- A series' occurrences from a moment on, by start time.
SELECT m.id, m.board_id, b.name AS board_name, m.starts_at, m.duration_minutes, m.location, m.video_url,
       m.capacity, m.case_count, m.submission_deadline, m.status, m.created_at, b.time_zone,
       m.minutes_per_case, m.booked_minutes, m.series_id, m.occurrence_on, m.agenda_locks_at,
       m.agenda_locked_at
FROM meeting m
JOIN board b ON b.id = m.board_id
WHERE m.series_id = :series_id AND m.starts_at >= :starts_from
ORDER BY m.starts_at, m.id
LIMIT :limit;

-- name: list_open_occurrences
-- Future scheduled occurrences of a series, optionally only those following the series' participants.
SELECT id FROM meeting
WHERE series_id = :series_id AND status = 'scheduled' AND starts_at > now()
  AND (NOT :following_series OR NOT own_participants)
ORDER BY id;

-- name: lock_cases_on_meetings
-- Lock the scheduled cases of several meetings at once (cases before meetings, always).
SELECT id FROM patient_case
WHERE meeting_id = ANY (:meeting_ids::uuid[]) AND status = 'scheduled'
ORDER BY id
FOR UPDATE;
