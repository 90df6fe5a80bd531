-- Request cost: what the database does for each case submission and case read, trimmed to what the
-- rules need. Measured on the backend's CPU (docs/benchmarks.md, "HTTP ratios"): the submission's
-- one statement went from about 900 to about 650 µs. And the lifecycle check of a statement that
-- changes many cases costs in proportion to them, no longer to their square.

-- Search words in PL/pgSQL, the same rules as 0013. As SQL functions they were never inlined (unaccent
-- and concat_ws are not immutable), so every submission planned their bodies afresh inside its
-- trigger: about 200 µs of a submission's 900. PL/pgSQL keeps each expression's plan for the session.
-- Still immutable, so that a search is folded into a constant when it is planned.
CREATE OR REPLACE FUNCTION search_words(value text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    RETURN btrim(regexp_replace(lower(unaccent(value)), '[^[:alnum:]]+', ' ', 'g'));
END;
$$;

CREATE OR REPLACE FUNCTION case_search_vector(mrn text, given_name text, family_name text, diagnosis_code text)
RETURNS tsvector
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    RETURN to_tsvector('simple', search_words(concat_ws(' ', mrn, given_name, family_name, diagnosis_code)));
END;
$$;

-- A new case waits for a meeting: the lifecycle starts at `submitted`, and a waiting case has no meeting
-- (case_waiting_has_no_meeting). So an inserted case is on no meeting's count and has no participants:
-- the three statement triggers that ran on every insert to count it, to add its participants and to
-- check its first status found nothing to do but cost a function call and a query each. One row
-- trigger is left, which PostgreSQL skips without a call unless the first status is wrong.
DROP TRIGGER patient_case_count_on_insert ON patient_case;
DROP TRIGGER patient_case_participants_on_insert ON patient_case;
DROP TRIGGER patient_case_status_on_insert ON patient_case;

CREATE FUNCTION patient_case_refuse_first_status() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a case cannot go from nothing to %', NEW.status
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$;

CREATE TRIGGER patient_case_first_status
BEFORE INSERT ON patient_case
FOR EACH ROW WHEN (NEW.status <> 'submitted')
EXECUTE FUNCTION patient_case_refuse_first_status();

CREATE OR REPLACE FUNCTION patient_case_count_on_meetings() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        UPDATE meeting m SET case_count = m.case_count - d.delta
        FROM (SELECT meeting_id, count(*)::integer AS delta FROM old_cases
              WHERE meeting_id IS NOT NULL AND status <> 'withdrawn' GROUP BY meeting_id) d
        WHERE m.id = d.meeting_id;
    ELSE
        UPDATE meeting m SET case_count = m.case_count + d.delta
        FROM (
            SELECT meeting_id, sum(change)::integer AS delta
            FROM (SELECT meeting_id, -1 AS change FROM old_cases
                  WHERE meeting_id IS NOT NULL AND status <> 'withdrawn'
                  UNION ALL
                  SELECT meeting_id, 1 FROM new_cases
                  WHERE meeting_id IS NOT NULL AND status <> 'withdrawn') AS moves
            GROUP BY meeting_id
            HAVING sum(change) <> 0
        ) d
        WHERE m.id = d.meeting_id;
    END IF;
    RETURN NULL;
END;
$$;

-- Cases moved to another meeting (or none), or given to another presenter.
CREATE OR REPLACE FUNCTION case_participant_follow_cases() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM case_participant cp
    USING new_cases n JOIN old_cases o ON o.id = n.id
    WHERE cp.case_id = n.id
      AND (n.meeting_id IS DISTINCT FROM o.meeting_id OR n.presenter_id <> o.presenter_id);
    INSERT INTO case_participant (case_id, user_id, case_created_at)
    SELECT n.id, mp.user_id, n.created_at
    FROM new_cases n
    JOIN old_cases o ON o.id = n.id
    JOIN meeting_participant mp ON mp.meeting_id = n.meeting_id AND mp.user_id <> n.presenter_id
    WHERE n.meeting_id IS DISTINCT FROM o.meeting_id OR n.presenter_id <> o.presenter_id;
    RETURN NULL;
END;
$$;

-- Without the LIMIT 1 it had: planned to stop at the first bad row, the join of the old and new rows
-- was a nested loop, pair by pair, which a statement that changes thousands of cases could not afford
-- (7 s for 5,000 cases, minutes for a worker's pass over a backlog of 20,000, which then timed out
-- and started again, forever). Planned for every row, it is a hash join: 54 ms for 22,628 cases.
-- PL/pgSQL still reads only the first row it finds.
CREATE OR REPLACE FUNCTION patient_case_status_follows_lifecycle() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    SELECT o.status AS from_status, n.status AS to_status INTO bad
    FROM old_cases o
    JOIN new_cases n ON n.id = o.id
    WHERE o.status <> n.status
      AND NOT EXISTS (SELECT 1 FROM case_status_transition t
                      WHERE t.from_status = o.status AND t.to_status = n.status);
    IF FOUND THEN
        RAISE EXCEPTION 'a case cannot go from % to %', bad.from_status, bad.to_status
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END;
$$;

-- The same rule as 0015, with the presenter's and the coordinator's paths as a plain expression that
-- PL/pgSQL evaluates without a plan; only a participant's path runs the query (whose plan it keeps).
-- The whole rule as one expression was planned afresh on every call.
CREATE OR REPLACE FUNCTION case_visible_to(
    presenter_id uuid, meeting_id uuid, viewer_id uuid, sees_all boolean
) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF sees_all OR presenter_id = viewer_id THEN
        RETURN true;
    END IF;
    RETURN EXISTS (SELECT 1 FROM meeting_participant mp
                   WHERE mp.meeting_id = case_visible_to.meeting_id AND mp.user_id = viewer_id);
END
$$;

-- Most submissions carry no Idempotency-Key: only those that do need an entry in its index.
ALTER TABLE patient_case DROP CONSTRAINT case_idempotency_key;
CREATE UNIQUE INDEX patient_case_idempotency_key ON patient_case (presenter_id, idempotency_key)
WHERE idempotency_key IS NOT NULL;

-- Every audited request wrote an entry in an index that no query reads any more: lookups by subject
-- use audit_event_subject_id_idx (0010), a case's history audit_event_changes_idx.
DROP INDEX audit_event_subject_idx;
