-- name: list_calendar_meetings
-- The meetings a user takes part in from a moment on (cancelled ones too, so calendars drop them).
SELECT m.id, b.name AS board_name, b.time_zone, m.starts_at, m.duration_minutes, m.location, m.video_url,
       m.status, m.case_count, m.sequence, m.created_at, m.updated_at
FROM meeting_participant p
JOIN meeting m ON m.id = p.meeting_id
JOIN board b ON b.id = m.board_id
WHERE p.user_id = :user_id AND m.starts_at >= :starts_from
ORDER BY m.starts_at, m.id
LIMIT :limit;

-- name: get_calendar_meeting^
-- One meeting as a calendar event shows it.
SELECT m.id, b.name AS board_name, b.time_zone, m.starts_at, m.duration_minutes, m.location, m.video_url,
       m.status, m.case_count, m.sequence, m.created_at, m.updated_at
FROM meeting m
JOIN board b ON b.id = m.board_id
WHERE m.id = :id;

-- name: upsert_calendar_feed$
-- Give a user a new feed secret (the old URL stops working).
INSERT INTO calendar_feed (user_id, token_hash)
VALUES (:user_id, :token_hash)
ON CONFLICT (user_id) DO UPDATE SET token_hash = EXCLUDED.token_hash, created_at = now()
RETURNING created_at;

-- name: delete_calendar_feed!
-- Revoke a user's feed URL.
DELETE FROM calendar_feed WHERE user_id = :user_id;

-- name: get_calendar_feed_user$
-- The active user a feed secret belongs to.
SELECT f.user_id
FROM calendar_feed f
JOIN app_user u ON u.id = f.user_id
WHERE f.token_hash = :token_hash AND u.is_active;
