-- name: insert_user<!
-- Create a user; the email is stored lower-case.
INSERT INTO app_user (email, full_name, password_hash, roles, discipline)
VALUES (:email, :full_name, :password_hash, :roles, :discipline)
RETURNING id, email, full_name, roles, discipline, created_at;

-- name: get_user^
-- One user by id.
SELECT id, email, full_name, roles, discipline, created_at
FROM app_user
WHERE id = :id;

-- name: get_login^
-- The password hash of an active user, for signing in.
SELECT id, password_hash
FROM app_user
WHERE email = :email AND is_active;

-- name: update_password_hash!
-- Store a re-hashed password after the hash parameters changed.
UPDATE app_user SET password_hash = :password_hash WHERE id = :id;

-- name: list_users
-- Users by name, keyset-paginated.
SELECT id, email, full_name, roles, discipline, created_at
FROM app_user
WHERE (:after_name::text IS NULL OR (full_name, id) > (:after_name, :after_id::uuid))
ORDER BY full_name, id
LIMIT :limit;

-- name: insert_token!
-- Store the hash of a new bearer token or session.
INSERT INTO access_token (token_hash, user_id, kind, expires_at)
VALUES (:token_hash, :user_id, :kind, :expires_at);

-- name: get_token_user^
-- The active user behind an unexpired token.
SELECT u.id, u.email, u.full_name, u.roles, u.discipline, u.created_at, t.kind, t.expires_at
FROM access_token t
JOIN app_user u ON u.id = t.user_id
WHERE t.token_hash = :token_hash AND t.expires_at > now() AND u.is_active;

-- name: extend_session!
-- Push back the idle expiry of a browser session.
UPDATE access_token SET expires_at = :expires_at
WHERE token_hash = :token_hash AND kind = 'session';

-- name: delete_token!
-- Sign out: forget a token.
DELETE FROM access_token WHERE token_hash = :token_hash;

-- name: delete_expired_tokens!
-- Housekeeping: drop tokens past their expiry.
DELETE FROM access_token WHERE expires_at < now();
