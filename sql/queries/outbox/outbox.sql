-- name: insert_outbox_job$
-- Write a job in the caller's transaction, with the id of the request that caused it.
INSERT INTO outbox (job, subject_id, request_id) VALUES (:job, :subject_id, :request_id) RETURNING id;

-- name: claim_outbox_jobs
-- Take jobs for (re-)enqueueing at the attempt counts the caller saw; rows another process holds
-- or took already are skipped. Rows of a batched job share one arq job id, named after the first.
-- Each row is looked up by its key on its own (the locking subquery is not flattened): the pending
-- rows' index also holds the rows done since the last VACUUM, and a plan through it on stale
-- statistics would read them all for every claim.
WITH locked AS (
    SELECT o.id, o.job, o.attempts
    FROM unnest(:ids::bigint[], :attempts::integer[]) AS seen (id, attempts)
    CROSS JOIN LATERAL (
        SELECT id, job, attempts FROM outbox
        WHERE id = seen.id AND attempts = seen.attempts
          AND done_at IS NULL AND failed_at IS NULL AND attempts < :max_attempts
        FOR UPDATE SKIP LOCKED
    ) o
), keyed AS (
    SELECT id,
           CASE WHEN job = ANY (:batched::text[])
                THEN 'outbox:' || first_value(id) OVER same_job || ':' || ((first_value(attempts) OVER same_job) + 1)
                ELSE 'outbox:' || id || ':' || (attempts + 1)
           END AS arq_job_id
    FROM locked
    WINDOW same_job AS (PARTITION BY job ORDER BY id)
)
UPDATE outbox o
SET attempts = o.attempts + 1, arq_job_id = keyed.arq_job_id, enqueued_at = now()
FROM keyed
WHERE o.id = keyed.id AND o.id = ANY (:ids::bigint[])  -- the rows by their key, not a scan of the table
RETURNING o.id, o.job, o.subject_id, o.arq_job_id, o.request_id;

-- name: list_pending_outbox_jobs
-- Jobs neither done nor dead whose enqueue is missing or older than its retry delay
-- (the settle time, doubled for each attempt already made, at most :max_delay seconds).
SELECT id, job, attempts, arq_job_id
FROM outbox
WHERE done_at IS NULL AND failed_at IS NULL
  AND (enqueued_at IS NULL
       OR enqueued_at < now() - make_interval(
           secs => least(:settle_seconds * power(2, greatest(attempts - 1, 0)), :max_delay)))
ORDER BY id
LIMIT :limit;

-- name: mark_outbox_jobs_done!
-- Record that the jobs' work is committed; a job done twice keeps its first time. No condition
-- on done_at, so that no plan can go through the pending rows' index (see claim_outbox_jobs).
UPDATE outbox SET done_at = coalesce(done_at, now()), failed_at = NULL WHERE id = ANY (:ids::bigint[]);

-- name: record_outbox_failure
-- Remember the class of a failure; a job that has used its last attempt becomes dead.
UPDATE outbox
SET last_error = :error, failed_at = CASE WHEN attempts >= :max_attempts THEN now() END
WHERE id = ANY (:ids::bigint[]) AND done_at IS NULL AND failed_at IS NULL
RETURNING id, job, attempts, failed_at IS NOT NULL AS dead;

-- name: list_dead_outbox_jobs
-- Dead jobs, most recent first (ids, names and error classes only).
SELECT id, job, subject_id, attempts, last_error, request_id, created_at, failed_at
FROM outbox
WHERE failed_at IS NOT NULL AND done_at IS NULL
ORDER BY failed_at DESC, id DESC
LIMIT :limit;

-- name: retry_dead_outbox_job^
-- Give a dead job a fresh set of attempts and announce it to the workers.
WITH revived AS (
    UPDATE outbox
    SET attempts = 0, failed_at = NULL, last_error = NULL, enqueued_at = NULL, arq_job_id = NULL
    WHERE id = :id AND failed_at IS NOT NULL AND done_at IS NULL
    RETURNING id, job, subject_id, attempts, last_error, request_id, created_at, failed_at
)
SELECT revived.*, pg_notify('outbox', revived.id::text) IS NOT NULL AS announced FROM revived;

-- name: get_outbox_backlog
-- Per job: how many wait, how many are dead, and the age in seconds of the oldest waiting one.
SELECT job,
       count(*) FILTER (WHERE failed_at IS NULL) AS pending,
       count(*) FILTER (WHERE failed_at IS NOT NULL) AS dead,
       extract(epoch FROM now() - min(created_at) FILTER (WHERE failed_at IS NULL))::float8 AS oldest_age
FROM outbox
WHERE done_at IS NULL
GROUP BY job;

-- name: delete_old_outbox_jobs!
-- Housekeeping: forget jobs finished long ago.
DELETE FROM outbox WHERE done_at < now() - make_interval(days => :keep_days);
