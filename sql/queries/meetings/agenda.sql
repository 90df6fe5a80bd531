-- name: list_due_agendas
-- Scheduled meetings whose agenda lock time has come and whose agenda is still open.
SELECT id FROM meeting
WHERE status = 'scheduled' AND agenda_locked_at IS NULL AND agenda_locks_at <= now() AND starts_at > now()
ORDER BY agenda_locks_at, id
LIMIT :limit;

-- name: list_meetings_to_remind
-- Scheduled meetings whose agenda locks within the lead time and whose presenters were not yet reminded.
SELECT id FROM meeting
WHERE status = 'scheduled' AND agenda_locked_at IS NULL AND presenters_reminded_at IS NULL
  AND agenda_locks_at - make_interval(hours => :lead_hours) <= now() AND starts_at > now()
ORDER BY agenda_locks_at, id
LIMIT :limit;

-- name: mark_presenters_reminded!
-- The presenters of a meeting's unready cases were told what is missing.
UPDATE meeting SET presenters_reminded_at = now() WHERE id = :id AND presenters_reminded_at IS NULL;

-- name: lock_meeting_for_agenda^
-- Lock a meeting whose agenda is about to be frozen, with what the lock checks.
SELECT id, status, starts_at, agenda_locks_at, agenda_locked_at, now() AS now
FROM meeting
WHERE id = :id
FOR UPDATE;

-- name: defer_case!
-- Take a routine case that is not ready off its meeting at the agenda lock.
UPDATE patient_case
SET status = :to_status, meeting_id = NULL, assignment_note = :note, updated_at = now()
WHERE id = :id AND meeting_id = :meeting_id AND status = ANY (:from_statuses::text[]);

-- name: insert_deferral!
-- Remember why a case left a meeting, so its next note can say so.
INSERT INTO agenda_deferral (case_id, meeting_id, missing_items)
VALUES (:case_id, :meeting_id, :missing_items)
ON CONFLICT (case_id, meeting_id) DO NOTHING;

-- name: freeze_agenda!
-- Fix the order of the agenda as it stands at the lock.
INSERT INTO agenda_item (meeting_id, case_id, position)
SELECT :meeting_id, case_id, position
FROM unnest(:case_ids::uuid[]) WITH ORDINALITY AS a (case_id, position)
ON CONFLICT DO NOTHING;

-- name: mark_agenda_locked!
-- The agenda is frozen.
UPDATE meeting SET agenda_locked_at = now(), updated_at = now() WHERE id = :id AND agenda_locked_at IS NULL;

-- name: lock_meeting_for_sending^
-- Lock a meeting whose frozen agenda is being sent.
SELECT id, agenda_locked_at, agenda_sent_at FROM meeting WHERE id = :id FOR UPDATE;

-- name: mark_agenda_sent!
-- The frozen agenda went to the participants, as this document.
UPDATE meeting SET agenda_sent_at = now(), agenda_sent_fingerprint = :fingerprint, updated_at = now()
WHERE id = :id AND agenda_sent_at IS NULL;

-- name: get_agenda_pdf$
-- A rendered agenda PDF, by its content fingerprint.
SELECT pdf FROM agenda_pdf WHERE meeting_id = :meeting_id AND fingerprint = :fingerprint;

-- name: insert_agenda_pdf!
-- Store a rendered agenda PDF once.
INSERT INTO agenda_pdf (meeting_id, fingerprint, pdf)
VALUES (:meeting_id, :fingerprint, :pdf)
ON CONFLICT (meeting_id, fingerprint) DO NOTHING;

-- name: has_pending_job$
-- Whether a job for this subject is already waiting in the outbox.
SELECT EXISTS (SELECT 1 FROM outbox WHERE job = :job AND subject_id = :subject_id AND done_at IS NULL);
