-- name: insert_outbox_job$
-- Write a job in the caller's transaction.
INSERT INTO outbox (job, subject_id) VALUES (:job, :subject_id) RETURNING id;

-- name: claim_outbox_job^
-- Take a job for (re-)enqueueing under a fresh arq job id; only one process wins.
UPDATE outbox
SET attempts = attempts + 1,
    arq_job_id = 'outbox:' || id || ':' || (attempts + 1),
    enqueued_at = now()
WHERE id = :id AND done_at IS NULL AND attempts = :attempts AND attempts < :max_attempts
RETURNING id, job, subject_id, arq_job_id;

-- name: list_pending_outbox_jobs
-- Jobs not done whose enqueue is missing or old enough to check on.
SELECT id, job, subject_id, attempts, arq_job_id
FROM outbox
WHERE done_at IS NULL
  AND attempts < :max_attempts
  AND (enqueued_at IS NULL OR enqueued_at < now() - make_interval(secs => :settle_seconds))
ORDER BY id
LIMIT :limit;

-- name: mark_outbox_job_done!
-- Record that a job's work is committed.
UPDATE outbox SET done_at = now() WHERE id = :id AND done_at IS NULL;

-- name: delete_old_outbox_jobs!
-- Housekeeping: forget jobs finished long ago.
DELETE FROM outbox WHERE done_at < now() - make_interval(days => :keep_days);
