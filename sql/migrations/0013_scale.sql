-- Scale: case lists and search that indexes serve on millions of cases, and the audit trail
-- partitioned by month. See docs/benchmarks.md (the scale benchmark) for the plans and figures.

CREATE EXTENSION IF NOT EXISTS unaccent;

-- Case search matches words: lower case, accents off, every run of other characters one space.
-- The same function normalises what is indexed and what is searched for. Declared immutable (the
-- unaccent rules do not change under a running database) so that the planner folds a search into
-- a constant and estimates from the statistics how many cases it matches.
CREATE FUNCTION search_words(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT btrim(regexp_replace(lower(unaccent(value)), '[^[:alnum:]]+', ' ', 'g'))
$$;

-- What a case is found by: the words of its patient's MRN and names and of its diagnosis code.
CREATE FUNCTION case_search_vector(mrn text, given_name text, family_name text, diagnosis_code text)
RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT to_tsvector('simple', search_words(concat_ws(' ', mrn, given_name, family_name, diagnosis_code)))
$$;

-- A search: every word must begin a word of the case (prefix match); NULL, which matches nothing,
-- when the text has no word at all. Each word is quoted, so nothing in it is tsquery syntax.
CREATE FUNCTION case_search_query(text_searched text) RETURNS tsquery
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT to_tsquery('simple', string_agg(quote_literal(word) || ':*', ' & '))
    FROM regexp_split_to_table(search_words(text_searched), ' ') AS word
    WHERE word <> ''
$$;

ALTER TABLE patient_case ADD COLUMN search_vector tsvector NOT NULL DEFAULT '';

UPDATE patient_case c
SET search_vector = case_search_vector(p.mrn, p.given_name, p.family_name, c.diagnosis ->> 'code')
FROM patient p
WHERE p.id = c.patient_id;

-- Kept by the database: a case's search words follow its patient and its diagnosis.
CREATE FUNCTION patient_case_search_vector() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_vector := (
        SELECT case_search_vector(p.mrn, p.given_name, p.family_name, NEW.diagnosis ->> 'code')
        FROM patient p WHERE p.id = NEW.patient_id
    );
    RETURN NEW;
END;
$$;

CREATE TRIGGER patient_case_search_vector
BEFORE INSERT OR UPDATE OF patient_id, diagnosis ON patient_case
FOR EACH ROW EXECUTE FUNCTION patient_case_search_vector();

CREATE FUNCTION patient_search_vector() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE patient_case c
    SET search_vector = case_search_vector(NEW.mrn, NEW.given_name, NEW.family_name, c.diagnosis ->> 'code')
    WHERE c.patient_id = NEW.id;
    RETURN NULL;
END;
$$;

CREATE TRIGGER patient_search_vector
AFTER UPDATE OF mrn, given_name, family_name ON patient
FOR EACH ROW
WHEN ((OLD.mrn, OLD.given_name, OLD.family_name) IS DISTINCT FROM (NEW.mrn, NEW.given_name, NEW.family_name))
EXECUTE FUNCTION patient_search_vector();

-- A GIN index keeps each word's cases; a prefix reads the words it begins, so an MRN or a name
-- costs what it matches.
CREATE INDEX patient_case_search_idx ON patient_case USING gin (search_vector);

-- The case list filtered by site (a board's coordinator) or by meeting, newest first; the second
-- also serves every lookup by meeting that the plain index on meeting_id served.
CREATE INDEX patient_case_site_created_idx ON patient_case (disease_site, created_at DESC, id DESC);
CREATE INDEX patient_case_meeting_created_idx ON patient_case (meeting_id, created_at DESC, id DESC);
DROP INDEX patient_case_meeting_idx;

-- The quality report picks a period's first decisions meeting by meeting of the board: with the
-- day of the decision in the index, the meetings of other years cost one empty probe each instead
-- of reading every decision they ever had (see docs/benchmarks.md, the scale benchmark).
CREATE INDEX board_decision_opening_idx ON board_decision (meeting_id, decided_at) WHERE revision = 1;

-- The participants' path of the case list: each case with every participant of its meeting other
-- than its presenter (who sees it as its presenter), with the case's creation time, so that a
-- reviewer's cases come newest first from one index however many meetings they sat on. Derived from
-- patient_case.meeting_id and meeting_participant and kept by the triggers below in the same
-- transaction as every change to them. A change of participants locks their meeting (as the service
-- does already), and so does placing a case on a meeting (its case count, whose trigger fires first),
-- so a concurrent participant change and case move always see each other's committed rows.
CREATE TABLE case_participant (
    case_id         uuid NOT NULL REFERENCES patient_case (id) ON DELETE CASCADE,
    user_id         uuid NOT NULL,
    case_created_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX case_participant_key ON case_participant (case_id, user_id);
CREATE INDEX case_participant_user_idx ON case_participant (user_id, case_created_at DESC, case_id DESC);

INSERT INTO case_participant (case_id, user_id, case_created_at)
SELECT c.id, mp.user_id, c.created_at
FROM patient_case c
JOIN meeting_participant mp ON mp.meeting_id = c.meeting_id AND mp.user_id <> c.presenter_id;

CREATE FUNCTION case_participant_follow_cases() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO case_participant (case_id, user_id, case_created_at)
        SELECT n.id, mp.user_id, n.created_at
        FROM new_cases n
        JOIN meeting_participant mp ON mp.meeting_id = n.meeting_id AND mp.user_id <> n.presenter_id;
        RETURN NULL;
    END IF;
    -- Cases moved to another meeting (or none), or given to another presenter.
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

-- Named to fire after patient_case_count_on_* (triggers fire in name order), which lock the meetings.
CREATE TRIGGER patient_case_participants_on_insert
AFTER INSERT ON patient_case REFERENCING NEW TABLE AS new_cases
FOR EACH STATEMENT EXECUTE FUNCTION case_participant_follow_cases();

CREATE TRIGGER patient_case_participants_on_update
AFTER UPDATE ON patient_case REFERENCING OLD TABLE AS old_cases NEW TABLE AS new_cases
FOR EACH STATEMENT EXECUTE FUNCTION case_participant_follow_cases();

CREATE FUNCTION case_participant_follow_participants() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM 1 FROM meeting m WHERE m.id IN (SELECT meeting_id FROM old_participants)
        ORDER BY m.id FOR NO KEY UPDATE OF m;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM 1 FROM meeting m WHERE m.id IN (SELECT meeting_id FROM new_participants)
        ORDER BY m.id FOR NO KEY UPDATE OF m;
    END IF;
    IF TG_OP = 'DELETE' THEN
        DELETE FROM case_participant cp
        USING old_participants op JOIN patient_case c ON c.meeting_id = op.meeting_id
        WHERE cp.case_id = c.id AND cp.user_id = op.user_id;
    ELSIF TG_OP = 'INSERT' THEN
        INSERT INTO case_participant (case_id, user_id, case_created_at)
        SELECT c.id, np.user_id, c.created_at
        FROM new_participants np
        JOIN patient_case c ON c.meeting_id = np.meeting_id AND c.presenter_id <> np.user_id;
    ELSE
        DELETE FROM case_participant cp
        USING old_participants op JOIN patient_case c ON c.meeting_id = op.meeting_id
        WHERE cp.case_id = c.id AND cp.user_id = op.user_id
          AND NOT EXISTS (SELECT 1 FROM new_participants np
                          WHERE np.meeting_id = op.meeting_id AND np.user_id = op.user_id);
        INSERT INTO case_participant (case_id, user_id, case_created_at)
        SELECT c.id, np.user_id, c.created_at
        FROM new_participants np
        JOIN patient_case c ON c.meeting_id = np.meeting_id AND c.presenter_id <> np.user_id
        WHERE NOT EXISTS (SELECT 1 FROM old_participants op
                          WHERE op.meeting_id = np.meeting_id AND op.user_id = np.user_id);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER meeting_participant_cases_on_insert
AFTER INSERT ON meeting_participant REFERENCING NEW TABLE AS new_participants
FOR EACH STATEMENT EXECUTE FUNCTION case_participant_follow_participants();

CREATE TRIGGER meeting_participant_cases_on_update
AFTER UPDATE ON meeting_participant REFERENCING OLD TABLE AS old_participants NEW TABLE AS new_participants
FOR EACH STATEMENT EXECUTE FUNCTION case_participant_follow_participants();

CREATE TRIGGER meeting_participant_cases_on_delete
AFTER DELETE ON meeting_participant REFERENCING OLD TABLE AS old_participants
FOR EACH STATEMENT EXECUTE FUNCTION case_participant_follow_participants();

-- The audit trail, partitioned by month of occurred_at: a month is written to one small partition
-- and its indexes, and old months can be archived or dropped whole. The table is rebuilt from
-- whatever columns, indexes and triggers it has by now (other migrations add to it), rows kept.
CREATE FUNCTION audit_event_add_partitions(first_month date, last_month date) RETURNS integer
LANGUAGE plpgsql
-- The service's role may not create tables: this runs as the owner of the audit trail, on names
-- qualified with its schema (never a temporary table of the caller's).
SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    here text := current_schema();
    month date := date_trunc('month', first_month);
    partition text;
    created integer := 0;
BEGIN
    WHILE month <= last_month LOOP
        partition := 'audit_event_' || to_char(month, 'YYYY_MM');
        IF to_regclass(format('%I.%I', here, partition)) IS NULL THEN
            BEGIN
                EXECUTE format(
                    'CREATE TABLE %I.%I PARTITION OF %I.audit_event FOR VALUES FROM (%L) TO (%L)',
                    here, partition, here, month::timestamp AT TIME ZONE 'UTC',
                    (month + interval '1 month')::timestamp AT TIME ZONE 'UTC');
                EXECUTE format(
                    'CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON %I.%I'
                    ' FOR EACH STATEMENT EXECUTE FUNCTION %I.audit_event_append_only()', here, partition, here);
                created := created + 1;
            EXCEPTION WHEN check_violation THEN
                -- Rows of this month already sit in the default partition: they stay there.
                RAISE WARNING 'audit events of % are in audit_event_default; no partition made for that month',
                    to_char(month, 'YYYY-MM');
            END;
        END IF;
        month := month + interval '1 month';
    END LOOP;
    RETURN created;
END;
$$;

COMMENT ON FUNCTION audit_event_add_partitions(date, date) IS
    'Create the missing monthly partitions of audit_event from first_month through last_month (UTC months).';

DO $$
DECLARE
    index_definitions text[];
    trigger_definitions text[];
    definition text;
    oldest timestamptz;
BEGIN
    SELECT coalesce(array_agg(pg_get_indexdef(i.indexrelid)), '{}') INTO index_definitions
    FROM pg_index i
    WHERE i.indrelid = 'audit_event'::regclass AND NOT i.indisprimary;
    SELECT coalesce(array_agg(pg_get_triggerdef(t.oid)), '{}') INTO trigger_definitions
    FROM pg_trigger t
    WHERE t.tgrelid = 'audit_event'::regclass AND NOT t.tgisinternal;
    SELECT min(occurred_at) INTO oldest FROM audit_event;

    ALTER TABLE audit_event RENAME TO audit_event_unpartitioned;
    CREATE TABLE audit_event (
        LIKE audit_event_unpartitioned
        INCLUDING COMMENTS INCLUDING CONSTRAINTS INCLUDING DEFAULTS INCLUDING GENERATED
        INCLUDING IDENTITY INCLUDING STATISTICS INCLUDING STORAGE
    ) PARTITION BY RANGE (occurred_at);
    CREATE TABLE audit_event_default PARTITION OF audit_event DEFAULT;
    CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_event_default
        FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only();
    PERFORM audit_event_add_partitions(
        coalesce(oldest, now())::date, (now() AT TIME ZONE 'UTC' + interval '12 months')::date);

    INSERT INTO audit_event OVERRIDING SYSTEM VALUE SELECT * FROM audit_event_unpartitioned;
    PERFORM setval(pg_get_serial_sequence('audit_event', 'id'), max(id)) FROM audit_event HAVING max(id) > 0;
    DROP TABLE audit_event_unpartitioned;
    EXECUTE format('ALTER SEQUENCE %s RENAME TO audit_event_id_seq', pg_get_serial_sequence('audit_event', 'id'));

    ALTER TABLE audit_event ADD PRIMARY KEY (id, occurred_at);
    FOREACH definition IN ARRAY index_definitions LOOP
        EXECUTE definition;
    END LOOP;
    FOREACH definition IN ARRAY trigger_definitions LOOP
        EXECUTE definition;
    END LOOP;
END;
$$;
