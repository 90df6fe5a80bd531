-- name: insert_audit_event!
-- One audit event.
INSERT INTO audit_event (actor_id, action, subject_type, subject_id, outcome)
VALUES (:actor_id, :action, :subject_type, :subject_id, :outcome);

-- name: insert_audit_reads!
-- One 'read' event per record in a list that was shown.
INSERT INTO audit_event (actor_id, action, subject_type, subject_id, outcome)
SELECT :actor_id, 'read', :subject_type, subject_id, 'allowed'
FROM unnest(:subject_ids::uuid[]) AS subject_id;

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
