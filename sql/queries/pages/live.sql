-- The live agenda's open event streams, counted per user across web processes.

-- name: open_live_stream$
-- Register a stream for the user unless they already have `max_streams` open; its id, or NULL.
-- Rows older than `stale_seconds` (a stream lasts about a minute) are dropped on the way.
WITH stale AS (
    DELETE FROM live_stream
    WHERE user_id = :user_id AND opened_at < now() - make_interval(secs => :stale_seconds::float8)
)
INSERT INTO live_stream (user_id)
SELECT :user_id
WHERE (
    SELECT count(*) FROM live_stream
    WHERE user_id = :user_id AND opened_at >= now() - make_interval(secs => :stale_seconds::float8)
) < :max_streams::int
RETURNING id;

-- name: close_live_stream!
-- A stream ended.
DELETE FROM live_stream WHERE id = :id;
