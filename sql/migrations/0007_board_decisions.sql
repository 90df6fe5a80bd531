-- The board decides at its meeting: the chair's recorded decision on each case, the case lifecycle
-- held by the database, cases returned to the waiting list first in line, the notice that tells a
-- presenter so, and views for the shapes that repeat (a case's latest care plan, open meetings).

-- The status changes tumorboard.cases.lifecycle.TRANSITIONS allows, as (from, to) pairs; a test
-- proves this table equals that one's projection.
CREATE TABLE case_status_transition (
    from_status text NOT NULL,
    to_status   text NOT NULL,
    PRIMARY KEY (from_status, to_status),
    CONSTRAINT case_status_transition_changes CHECK (from_status <> to_status)
);

INSERT INTO case_status_transition (from_status, to_status) VALUES
    ('submitted', 'scheduled'),
    ('submitted', 'withdrawn'),
    ('scheduled', 'submitted'),
    ('scheduled', 'discussed'),
    ('scheduled', 'withdrawn'),
    ('discussed', 'finalized'),
    ('discussed', 'withdrawn'),
    ('finalized', 'discussed');

-- A new case is submitted, and no statement may move a case along a step the lifecycle lacks.
-- Checked once per statement, so an assignment pass placing thousands of cases costs one join.
CREATE FUNCTION patient_case_status_follows_lifecycle() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT NULL::text AS from_status, n.status AS to_status INTO bad
        FROM new_cases n WHERE n.status <> 'submitted' LIMIT 1;
    ELSE
        SELECT o.status AS from_status, n.status AS to_status INTO bad
        FROM old_cases o
        JOIN new_cases n ON n.id = o.id
        WHERE o.status <> n.status
          AND NOT EXISTS (SELECT 1 FROM case_status_transition t
                          WHERE t.from_status = o.status AND t.to_status = n.status)
        LIMIT 1;
    END IF;
    IF FOUND THEN
        RAISE EXCEPTION 'a case cannot go from % to %', coalesce(bad.from_status, 'nothing'), bad.to_status
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER patient_case_status_on_insert
AFTER INSERT ON patient_case REFERENCING NEW TABLE AS new_cases
FOR EACH STATEMENT EXECUTE FUNCTION patient_case_status_follows_lifecycle();

CREATE TRIGGER patient_case_status_on_update
AFTER UPDATE ON patient_case REFERENCING OLD TABLE AS old_cases NEW TABLE AS new_cases
FOR EACH STATEMENT EXECUTE FUNCTION patient_case_status_follows_lifecycle();

-- When a case last went back to the waiting list because its board deferred it or its meeting
-- closed without deciding: such cases are placed first (after urgent ones), ahead of newer cases.
ALTER TABLE patient_case ADD COLUMN requeued_at timestamptz;

-- The chair's record of what the board agreed on a case at a meeting. Each correction is a new
-- revision; the highest revision of a case and meeting is the current decision, and earlier ones
-- (a deferral at an earlier meeting too) stay as the case's history. Quorum and attendance are
-- those counted when the chair recorded it.
CREATE TABLE board_decision (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    case_id          uuid NOT NULL REFERENCES patient_case (id),
    meeting_id       uuid NOT NULL REFERENCES meeting (id),
    revision         integer NOT NULL CHECK (revision > 0),
    outcome          text NOT NULL CHECK (outcome IN ('plan', 'defer')),
    intent           text CHECK (intent IN ('curative', 'palliative', 'undetermined')),
    modalities       text[] CHECK (
        cardinality(modalities) BETWEEN 1 AND 10
        AND modalities <@ ARRAY['surgery', 'radiation', 'systemic_therapy', 'clinical_trial',
                                'active_surveillance', 'further_workup', 'supportive_care', 'other']
    ),
    summary          text NOT NULL CHECK (length(summary) BETWEEN 1 AND 20000),
    rationale        text CHECK (length(rationale) BETWEEN 1 AND 20000),
    guideline        jsonb,
    trial_status     text CHECK (trial_status IN (
        'enrolled', 'eligible', 'not_eligible', 'none_available', 'not_considered'
    )),
    trial_id         text CHECK (trial_id ~ '^NCT[0-9]{8}$'),
    stage_discussed  boolean,
    quorum_required  text[] NOT NULL,
    quorum_covered   text[] NOT NULL,
    quorum_missing   text[] NOT NULL,
    quorum_override  text CHECK (length(quorum_override) BETWEEN 1 AND 20000),
    attendance       jsonb NOT NULL,
    decided_by       uuid NOT NULL REFERENCES app_user (id),
    decided_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT board_decision_revision_key UNIQUE (case_id, meeting_id, revision),
    -- A plan names its intent and its ordered modalities; a deferral only its reason (the summary).
    CONSTRAINT board_decision_plan_is_complete CHECK (
        (outcome = 'plan') = (intent IS NOT NULL AND modalities IS NOT NULL)
    ),
    CONSTRAINT board_decision_deferral_is_a_reason CHECK (
        outcome = 'plan' OR (rationale IS NULL AND guideline IS NULL AND trial_status IS NULL
                             AND stage_discussed IS NULL)
    ),
    CONSTRAINT board_decision_trial_id_with_status CHECK (trial_id IS NULL OR trial_status IS NOT NULL),
    -- A plan without quorum carries the chair's reason; a plan with quorum, or a deferral, none.
    CONSTRAINT board_decision_override_when_quorum_missing CHECK (
        (quorum_override IS NOT NULL) = (outcome = 'plan' AND cardinality(quorum_missing) > 0)
    )
);
CREATE INDEX board_decision_case_idx ON board_decision (case_id, decided_at);
CREATE INDEX board_decision_meeting_idx ON board_decision (meeting_id);

-- A recorded decision is history: it never changes and is never removed.
CREATE FUNCTION board_decision_is_history() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a recorded decision cannot change; record a correction'
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$;

CREATE TRIGGER board_decision_is_history
BEFORE UPDATE OR DELETE ON board_decision
FOR EACH ROW EXECUTE FUNCTION board_decision_is_history();

-- The current decision of each case and meeting: its highest revision.
CREATE VIEW current_board_decision AS
SELECT d.*
FROM board_decision d
WHERE NOT EXISTS (SELECT 1 FROM board_decision later
                  WHERE later.case_id = d.case_id AND later.meeting_id = d.meeting_id
                    AND later.revision > d.revision);

-- Each care plan version names the decision revision it was built from.
ALTER TABLE care_plan ADD COLUMN decision_id uuid REFERENCES board_decision (id);

CREATE OR REPLACE FUNCTION care_plan_content_is_fixed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id <> OLD.id OR NEW.case_id <> OLD.case_id OR NEW.version <> OLD.version
       OR NEW.consensus <> OLD.consensus OR NEW.content <> OLD.content
       OR NEW.source_fingerprint <> OLD.source_fingerprint OR NEW.generated_at <> OLD.generated_at
       OR NEW.replaces_version IS DISTINCT FROM OLD.replaces_version
       OR NEW.decision_id IS DISTINCT FROM OLD.decision_id THEN
        RAISE EXCEPTION 'care plan % version % cannot change; write a new version', OLD.case_id, OLD.version
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$;

-- The newest version of each case's care plan (an anti-join, so a join on case_id uses the
-- (case_id, version) index instead of reading every version).
CREATE VIEW latest_care_plan AS
SELECT cp.*
FROM care_plan cp
WHERE NOT EXISTS (SELECT 1 FROM care_plan newer
                  WHERE newer.case_id = cp.case_id AND newer.version > cp.version);

-- Meetings that have not ended: scheduled or in progress.
CREATE VIEW open_meeting AS
SELECT m.*
FROM meeting m
WHERE m.status IN ('scheduled', 'in_progress');

-- The inbox also tells a presenter that their case went back to the waiting list (its meeting
-- closed without a decision on it). Such a notice names the case and the meeting, not a care plan.
ALTER TABLE notification
    ADD COLUMN case_id uuid REFERENCES patient_case (id),
    ADD COLUMN meeting_id uuid REFERENCES meeting (id),
    ALTER COLUMN care_plan_id DROP NOT NULL,
    DROP CONSTRAINT notification_kind_check,
    ADD CONSTRAINT notification_kind_check CHECK (
        kind IN ('care_plan_draft', 'care_plan_final', 'case_returned')
    ),
    ADD CONSTRAINT notification_subject CHECK (
        CASE WHEN kind = 'case_returned'
             THEN care_plan_id IS NULL AND case_id IS NOT NULL AND meeting_id IS NOT NULL
             ELSE care_plan_id IS NOT NULL AND case_id IS NULL AND meeting_id IS NULL
        END
    );
CREATE UNIQUE INDEX notification_case_returned_once ON notification (user_id, case_id, meeting_id)
    WHERE kind = 'case_returned';
