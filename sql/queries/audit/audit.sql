-- name: insert_audit_event!
-- One audit event, with where its request came from.
INSERT INTO audit_event (
    actor_id, action, subject_type, subject_id, outcome,
    source_address, user_agent, credential_id, format, status_code)
VALUES (
    :actor_id, :action, :subject_type, :subject_id, :outcome,
    :source_address, :user_agent, :credential_id, :format, :status_code);

-- name: insert_audit_reads!
-- One 'read' event per record in a list that was shown.
INSERT INTO audit_event (
    actor_id, action, subject_type, subject_id, outcome, source_address, user_agent, credential_id, format)
SELECT :actor_id, 'read', :subject_type, subject_id, 'allowed', :source_address, :user_agent, :credential_id,
       :format
FROM unnest(:subject_ids::uuid[]) AS subject_id;

-- name: search_audit_events
-- Audit events by actor, subject and time (each filter optional), newest first, keyset-paginated.
SELECT e.id, e.occurred_at, e.actor_id, u.email AS actor_email, e.action, e.subject_type, e.subject_id,
       e.outcome, e.status_code, host(e.source_address) AS source_address, e.user_agent, e.credential_id,
       e.format
FROM audit_event e
LEFT JOIN app_user u ON u.id = e.actor_id
WHERE (:actor_id::uuid IS NULL OR e.actor_id = :actor_id)
  AND (:subject_id::uuid IS NULL OR e.subject_id = :subject_id)
  AND (:occurred_from::timestamptz IS NULL OR e.occurred_at >= :occurred_from)
  AND (:occurred_to::timestamptz IS NULL OR e.occurred_at < :occurred_to)
  AND (:before_id::bigint IS NULL OR e.id < :before_id)
ORDER BY e.id DESC
LIMIT :limit;

-- name: limit_partitioning_lock_wait!
-- Adding a partition briefly locks the audit trail: wait for that lock at most a few seconds (until
-- the end of the caller's transaction), rather than hold up every request behind it.
SELECT set_config('lock_timeout', '5s', true);

-- name: add_audit_partitions$
-- Monthly partitions of the audit trail from this month through `months_ahead` months ahead; how
-- many were missing.
SELECT audit_event_add_partitions(
    (now() AT TIME ZONE 'UTC')::date,
    ((now() AT TIME ZONE 'UTC') + make_interval(months => :months_ahead))::date
);
