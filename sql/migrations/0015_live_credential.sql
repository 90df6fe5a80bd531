-- The caller behind a presented token or session, when it is live: unexpired, its user active. The
-- one place of that rule: resolving a request's credential reads it, and so do the hottest
-- statements (a case read, a case submission), which check the caller's bearer token in the same
-- statement as their work and their audit row: one round trip per request, and a token revoked by
-- any process is refused by the very next statement (no cache). A plain SQL function: the planner
-- inlines it into each statement as a join of two primary-key lookups.
CREATE FUNCTION live_credential(presented bytea)
RETURNS TABLE (
    token_id uuid, kind text, expires_at timestamptz, ends_at timestamptz,
    user_id uuid, email text, full_name text, roles text[], discipline text, created_at timestamptz,
    active boolean, password_change_required boolean
)
LANGUAGE sql STABLE AS $$
    SELECT t.id, t.kind, t.expires_at, t.ends_at,
           u.id, u.email, u.full_name, u.roles, u.discipline, u.created_at,
           u.is_active, u.password_change_required
    FROM access_token t
    JOIN app_user u ON u.id = t.user_id
    WHERE t.token_hash = presented AND t.expires_at > now() AND u.is_active
$$;

-- The caller of a statement that serves a request: named by a bearer token it checks itself
-- (`presented`, any other argument ignored: no row when the token is not live), or already known
-- (`presented` NULL: the user, credential and roles the request resolved). `password_change_required`
-- callers may not act: the statements that take their caller from here write nothing for them.
CREATE FUNCTION request_caller(presented bytea, known_user uuid, known_credential uuid, known_roles text[])
RETURNS TABLE (
    user_id uuid, token_id uuid, roles text[], password_change_required boolean, email text,
    full_name text, discipline text, created_at timestamptz, ends_at timestamptz
)
LANGUAGE sql STABLE AS $$
    SELECT c.user_id, c.token_id, c.roles, c.password_change_required, c.email,
           c.full_name, c.discipline, c.created_at, c.ends_at
    FROM live_credential(presented) c
    WHERE presented IS NOT NULL AND c.kind = 'api'
    UNION ALL
    SELECT known_user, known_credential, known_roles, false, NULL, NULL, NULL, NULL, NULL
    WHERE presented IS NULL
$$;

-- The same rule as 0005 wrote it, in PL/pgSQL: PostgreSQL never inlines a SQL function whose body
-- holds a subquery (the EXISTS), so each call ran the SQL-function executor afresh, about 80 µs of
-- server CPU per case read measured here; PL/pgSQL keeps the EXISTS's plan for the session.
CREATE OR REPLACE FUNCTION case_visible_to(
    presenter_id uuid, meeting_id uuid, viewer_id uuid, sees_all boolean
) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN sees_all
        OR presenter_id = viewer_id
        OR EXISTS (SELECT 1 FROM meeting_participant mp
                   WHERE mp.meeting_id = case_visible_to.meeting_id AND mp.user_id = viewer_id);
END
$$;
