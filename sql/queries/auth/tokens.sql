-- name: insert_token<!
-- Store the hash of a new bearer token or session, with where it was issued to.
INSERT INTO access_token (token_hash, user_id, kind, expires_at, ends_at, source_address, user_agent)
VALUES (:token_hash, :user_id, :kind, :expires_at, :ends_at, :source_address, :user_agent)
RETURNING id;

-- name: resolve_token^
-- The active user behind an unexpired token (live_credential), with the token's id and ends. A
-- session given :idle_expires_at slides its idle expiry there (never past its absolute end) in the
-- same statement, written only when that moves it by more than :slide_step seconds.
WITH slid AS (
    UPDATE access_token
    SET expires_at = least(:idle_expires_at::timestamptz, ends_at)
    WHERE token_hash = :token_hash AND kind = 'session' AND expires_at > now()
      AND :idle_expires_at::timestamptz IS NOT NULL
      AND least(:idle_expires_at::timestamptz, ends_at) > expires_at + make_interval(secs => :slide_step::int)
    RETURNING token_hash, expires_at
)
SELECT c.user_id AS id, c.email, c.full_name, c.roles, c.discipline, c.created_at, c.active,
       c.password_change_required, c.kind, coalesce(s.expires_at, c.expires_at) AS expires_at, c.ends_at,
       c.token_id
FROM live_credential(:token_hash) c
LEFT JOIN slid s ON true;

-- name: delete_token^
-- Sign out: forget a token; its id and user, if it existed.
DELETE FROM access_token WHERE token_hash = :token_hash RETURNING id, user_id;

-- name: delete_user_tokens!
-- End a user's tokens and sessions, except the one named (NULL: all of them).
DELETE FROM access_token WHERE user_id = :user_id AND id IS DISTINCT FROM :keep_id;

-- name: delete_user_token$
-- End one of a user's tokens or sessions by its id; its id, if it was theirs.
DELETE FROM access_token WHERE user_id = :user_id AND id = :id RETURNING id;

-- name: list_user_tokens
-- A user's unexpired tokens and sessions, newest first.
SELECT id, kind, created_at, expires_at, ends_at, source_address, user_agent
FROM access_token
WHERE user_id = :user_id AND expires_at > now()
ORDER BY created_at DESC, id;

-- name: delete_expired_tokens!
-- Housekeeping: drop tokens past their expiry.
DELETE FROM access_token WHERE expires_at < now();
