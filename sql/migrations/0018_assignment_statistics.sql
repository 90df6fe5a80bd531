-- The assignment pass's lookups planned the same whatever the statistics say (docs/benchmarks.md,
-- "The worker's lookups and stale statistics").
--
-- A case's note is written by the pass that first looks at it, so whether it is NULL changes for most
-- of the table within seconds of a backlog's pass or a burst of submissions. Statistics taken before
-- that said "no note" for nearly every case, and PostgreSQL then read the whole table for the few
-- cases no pass had looked at yet, instead of patient_case_unassessed_idx (bench.worker, which
-- analyses its backlog before the pass that notes it: 11 to 16 ms per batch to lock it, and the worker
-- fell behind). Without statistics of the column, PostgreSQL takes "no note" for a small share of the
-- rows, which it is but for moments.
-- ANALYZE then skips the column but keeps what it had taken: the same type again drops that (the
-- table is not rewritten; only patient_case_unassessed_idx, whose predicate reads the note, is rebuilt).
ALTER TABLE patient_case
    ALTER COLUMN assignment_note SET STATISTICS 0,
    ALTER COLUMN assignment_note TYPE text;
