-- Pages: a case's timeline lists the changes to it, its recommendations and care plans from the
-- audit trail. Every page view adds a 'read' row, so without this index the timeline would scan a
-- case's ever-growing reads to find its few changes.
CREATE INDEX audit_event_changes_idx ON audit_event (subject_type, subject_id, occurred_at)
WHERE outcome = 'allowed' AND action NOT LIKE 'read%';
