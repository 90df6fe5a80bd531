-- name: get_user_by_identity^
-- The user a provider's subject is linked to, with whether they may sign in.
SELECT u.id, u.email, u.roles, u.discipline, u.is_active
FROM user_identity i
JOIN app_user u ON u.id = i.user_id
WHERE i.issuer = :issuer AND i.subject = :subject;

-- name: get_user_by_email_for_sso^
-- A user by email, to link a provider's subject to an existing account on first sign-in.
SELECT id, email, roles, discipline, is_active
FROM app_user
WHERE email = :email;

-- name: link_user_identity!
-- Link a provider's subject to a user, or note another sign-in through it.
INSERT INTO user_identity (issuer, subject, user_id)
VALUES (:issuer, :subject, :user_id)
ON CONFLICT (issuer, subject) DO UPDATE SET last_sign_in_at = now();

-- name: insert_provisioned_user<!
-- Create a user on first sign-in through a provider; they have no local password.
INSERT INTO app_user (email, full_name, password_hash, roles, discipline)
VALUES (:email, :full_name, NULL, :roles, :discipline)
RETURNING id;

-- name: set_user_grants_from_provider<!
-- Bring a user's roles and discipline in line with their groups at the provider.
UPDATE app_user SET roles = :roles, discipline = :discipline
WHERE id = :id AND (roles IS DISTINCT FROM :roles OR discipline IS DISTINCT FROM :discipline)
RETURNING id;
