-- Operations: jobs that exhaust their attempts are kept as dead letters, each job remembers the
-- request that caused it, and assignment passes remember the meetings they left behind.

-- request_id: the id of the web request (or job) that wrote the row, for following it in the logs.
-- last_error: the class of the last failure (never its message, which may hold data).
-- failed_at: set when the job used its last attempt and failed; an admin may retry it.
ALTER TABLE outbox
    ADD COLUMN request_id text CHECK (length(request_id) BETWEEN 1 AND 64),
    ADD COLUMN last_error text CHECK (length(last_error) BETWEEN 1 AND 200),
    ADD COLUMN failed_at  timestamptz,
    ADD CONSTRAINT outbox_dead_is_not_done CHECK (failed_at IS NULL OR done_at IS NULL);

-- Dead jobs are listed for admins, most recent first.
CREATE INDEX outbox_dead_idx ON outbox (failed_at) WHERE failed_at IS NOT NULL AND done_at IS NULL;

-- The state of a group's upcoming meetings right after its last pass (a digest of what the rule
-- reads of them). While it is unchanged, the waiting cases that pass left behind still fit no
-- meeting, so the next pass need only look at the cases it was asked about.
-- Such a pass takes the cases it was asked about and every waiting case no pass has looked at yet
-- (a pass notes each case it leaves waiting), so batches that run out of order keep priority.
ALTER TABLE assignment_pass ADD COLUMN meetings_digest text;
CREATE INDEX patient_case_unassessed_idx ON patient_case (disease_site)
    WHERE status = 'submitted' AND assignment_note IS NULL;
