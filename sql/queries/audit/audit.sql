-- name: insert_audit_event!
-- One audit event.
INSERT INTO audit_event (actor_id, action, subject_type, subject_id, outcome)
VALUES (:actor_id, :action, :subject_type, :subject_id, :outcome);

-- name: insert_audit_reads!
-- One 'read' event per record in a list that was shown.
INSERT INTO audit_event (actor_id, action, subject_type, subject_id, outcome)
SELECT :actor_id, 'read', :subject_type, subject_id, 'allowed'
FROM unnest(:subject_ids::uuid[]) AS subject_id;
