-- name: insert_user<!
-- Create a user; the email is stored lower-case.
INSERT INTO app_user (email, full_name, password_hash, roles, discipline)
VALUES (:email, :full_name, :password_hash, :roles, :discipline)
RETURNING id, email, full_name, roles, discipline, created_at, is_active AS active, password_change_required;

-- name: get_user^
-- One user by id.
SELECT id, email, full_name, roles, discipline, created_at, is_active AS active, password_change_required
FROM app_user
WHERE id = :id;

-- name: lock_user^
-- One user by id, locked before changing their account.
SELECT id, email, full_name, roles, discipline, created_at, is_active AS active, password_change_required,
       password_hash
FROM app_user
WHERE id = :id
FOR UPDATE;

-- name: get_login^
-- The password hash of an active user, for signing in.
SELECT id, password_hash, password_change_required
FROM app_user
WHERE email = :email AND is_active;

-- name: update_password_hash!
-- Store a re-hashed password after the hash parameters changed.
UPDATE app_user SET password_hash = :password_hash WHERE id = :id;

-- name: set_password!
-- A new password; `required_change` forces the user to change it at next sign-in (an admin's reset).
UPDATE app_user
SET password_hash = :password_hash, password_change_required = :required_change, password_changed_at = now()
WHERE id = :id;

-- name: update_user<!
-- An admin's change of name, roles, discipline or active flag (NULL leaves a field as it is).
UPDATE app_user
SET full_name = coalesce(:full_name, full_name),
    roles = coalesce(:roles, roles),
    discipline = CASE WHEN :clear_discipline THEN NULL ELSE coalesce(:discipline, discipline) END,
    is_active = coalesce(:active, is_active)
WHERE id = :id
RETURNING id, email, full_name, roles, discipline, created_at, is_active AS active, password_change_required;

-- name: list_users
-- Users by name, keyset-paginated.
SELECT id, email, full_name, roles, discipline, created_at, is_active AS active, password_change_required
FROM app_user
WHERE (:after_name::text IS NULL OR (full_name, id) > (:after_name, :after_id::uuid))
ORDER BY full_name, id
LIMIT :limit;

-- name: get_user_id_by_email$
-- A user's id by email (active or not), for searching the audit trail by actor.
SELECT id FROM app_user WHERE email = :email;
