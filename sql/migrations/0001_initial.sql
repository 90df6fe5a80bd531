-- The tumor board schema: users and tokens, boards and meetings, patients and cases,
-- recommendations, care plans, the job outbox and the audit trail.

CREATE TABLE app_user (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email         text NOT NULL CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 200),
    full_name     text NOT NULL CHECK (length(full_name) BETWEEN 1 AND 200),
    password_hash text NOT NULL,
    roles         text[] NOT NULL CHECK (
        cardinality(roles) > 0
        AND roles <@ ARRAY['admin', 'coordinator', 'presenter', 'reviewer']
    ),
    discipline    text CHECK (discipline IN (
        'medical_oncology', 'surgical_oncology', 'radiation_oncology', 'pathology', 'radiology',
        'nuclear_medicine', 'genetics', 'palliative_care', 'nursing', 'other'
    )),
    is_active     boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT reviewer_has_discipline CHECK (NOT ('reviewer' = ANY (roles)) OR discipline IS NOT NULL),
    CONSTRAINT app_user_email_key UNIQUE (email)
);

-- Bearer tokens and browser sessions; only a SHA-256 of the secret is stored.
CREATE TABLE access_token (
    token_hash  bytea PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN ('api', 'session')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);
CREATE INDEX access_token_user_idx ON access_token (user_id);

CREATE TABLE board (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name                 text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    disease_sites        text[] NOT NULL CHECK (cardinality(disease_sites) > 0),
    required_disciplines text[] NOT NULL CHECK (cardinality(required_disciplines) > 0),
    created_at           timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT board_name_key UNIQUE (name)
);
CREATE INDEX board_disease_sites_idx ON board USING gin (disease_sites);

-- case_count is kept by a trigger on patient_case; the CHECK makes overbooking impossible.
CREATE TABLE meeting (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    board_id            uuid NOT NULL REFERENCES board (id),
    starts_at           timestamptz NOT NULL,
    duration_minutes    integer NOT NULL CHECK (duration_minutes BETWEEN 5 AND 1440),
    location            text CHECK (length(location) <= 200),
    video_url           text CHECK (length(video_url) <= 2000),
    capacity            integer NOT NULL CHECK (capacity BETWEEN 1 AND 200),
    submission_deadline timestamptz NOT NULL CHECK (submission_deadline <= starts_at),
    status              text NOT NULL DEFAULT 'scheduled'
                        CHECK (status IN ('scheduled', 'in_progress', 'closed', 'cancelled')),
    case_count          integer NOT NULL DEFAULT 0,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT meeting_within_capacity CHECK (case_count BETWEEN 0 AND capacity)
);
CREATE INDEX meeting_board_starts_idx ON meeting (board_id, starts_at);
CREATE INDEX meeting_scheduled_starts_idx ON meeting (starts_at) WHERE status = 'scheduled';

CREATE TABLE meeting_participant (
    meeting_id uuid NOT NULL REFERENCES meeting (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES app_user (id),
    role       text NOT NULL CHECK (role IN ('chair', 'reviewer')),
    PRIMARY KEY (meeting_id, user_id)
);
CREATE UNIQUE INDEX meeting_one_chair_idx ON meeting_participant (meeting_id) WHERE role = 'chair';
CREATE INDEX meeting_participant_user_idx ON meeting_participant (user_id);

CREATE TABLE patient (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    mrn         text NOT NULL CHECK (length(mrn) BETWEEN 1 AND 200),
    given_name  text NOT NULL,
    family_name text NOT NULL,
    birth_date  date NOT NULL,
    sex         text NOT NULL CHECK (sex IN ('female', 'male', 'other', 'unknown')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT patient_mrn_key UNIQUE (mrn)
);

CREATE TABLE patient_case (
    id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    patient_id             uuid NOT NULL REFERENCES patient (id),
    presenter_id           uuid NOT NULL REFERENCES app_user (id),
    disease_site           text NOT NULL,
    diagnosis              jsonb NOT NULL,
    histology              text,
    stage                  jsonb,
    ecog                   smallint CHECK (ecog BETWEEN 0 AND 4),
    biomarkers             jsonb NOT NULL DEFAULT '[]',
    summary                text NOT NULL,
    question               text NOT NULL,
    urgency                text NOT NULL DEFAULT 'routine' CHECK (urgency IN ('routine', 'urgent')),
    discuss_by             date,
    status                 text NOT NULL DEFAULT 'submitted' CHECK (
        status IN ('submitted', 'scheduled', 'discussed', 'finalized', 'withdrawn')
    ),
    meeting_id             uuid REFERENCES meeting (id),
    assignment_note        text,
    absent_disciplines     text[] NOT NULL DEFAULT '{}',
    discussion_closed_at   timestamptz,
    idempotency_key        text,
    request_fingerprint    bytea,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT case_on_meeting_when_scheduled CHECK (
        status NOT IN ('scheduled', 'discussed', 'finalized') OR meeting_id IS NOT NULL
    ),
    CONSTRAINT case_waiting_has_no_meeting CHECK (status <> 'submitted' OR meeting_id IS NULL),
    CONSTRAINT case_idempotency_key UNIQUE (presenter_id, idempotency_key)
);
CREATE INDEX patient_case_created_idx ON patient_case (created_at DESC, id DESC);
CREATE INDEX patient_case_presenter_idx ON patient_case (presenter_id, created_at DESC, id DESC);
CREATE INDEX patient_case_meeting_idx ON patient_case (meeting_id);
CREATE INDEX patient_case_waiting_idx ON patient_case (created_at) WHERE status = 'submitted';

-- A case counts toward its meeting's capacity while it is on it and not withdrawn.
CREATE FUNCTION patient_case_count_on_meeting() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    old_meeting uuid;
    new_meeting uuid;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status <> 'withdrawn' THEN
        old_meeting := OLD.meeting_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status <> 'withdrawn' THEN
        new_meeting := NEW.meeting_id;
    END IF;
    IF old_meeting IS NOT DISTINCT FROM new_meeting THEN
        RETURN NULL;
    END IF;
    IF old_meeting IS NOT NULL THEN
        UPDATE meeting SET case_count = case_count - 1 WHERE id = old_meeting;
    END IF;
    IF new_meeting IS NOT NULL THEN
        UPDATE meeting SET case_count = case_count + 1 WHERE id = new_meeting;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER patient_case_count_on_meeting
AFTER INSERT OR UPDATE OF meeting_id, status OR DELETE ON patient_case
FOR EACH ROW EXECUTE FUNCTION patient_case_count_on_meeting();

CREATE TABLE recommendation (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    case_id     uuid NOT NULL REFERENCES patient_case (id),
    author_id   uuid NOT NULL REFERENCES app_user (id),
    discipline  text NOT NULL,
    intent      text NOT NULL CHECK (intent IN ('curative', 'palliative', 'undetermined')),
    modalities  text[] NOT NULL CHECK (cardinality(modalities) > 0),
    summary     text NOT NULL,
    rationale   text,
    guideline   jsonb,
    trial       jsonb,
    version     integer NOT NULL DEFAULT 1 CHECK (version > 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT recommendation_one_per_reviewer UNIQUE (case_id, author_id)
);

-- Each consolidation writes one version; source_fingerprint names the recommendation
-- versions it was built from, so a repeated job finds its work already done.
CREATE TABLE care_plan (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    case_id            uuid NOT NULL REFERENCES patient_case (id),
    version            integer NOT NULL CHECK (version > 0),
    status             text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'final')),
    consensus          boolean NOT NULL,
    content            jsonb NOT NULL,
    source_fingerprint text NOT NULL,
    generated_at       timestamptz NOT NULL DEFAULT now(),
    signed_by          uuid REFERENCES app_user (id),
    signed_at          timestamptz,
    content_hash       text,
    CONSTRAINT care_plan_case_version_key UNIQUE (case_id, version),
    CONSTRAINT care_plan_signed_when_final CHECK (
        (status = 'final') = (signed_by IS NOT NULL AND signed_at IS NOT NULL AND content_hash IS NOT NULL)
    )
);

-- A final care plan is immutable.
CREATE FUNCTION care_plan_final_is_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'final' THEN
        RAISE EXCEPTION 'care plan % version % is final and cannot change', OLD.case_id, OLD.version
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END;
$$;

CREATE TRIGGER care_plan_final_is_immutable
BEFORE UPDATE OR DELETE ON care_plan
FOR EACH ROW EXECUTE FUNCTION care_plan_final_is_immutable();

-- PDFs are rendered by a worker, once per care plan version and status.
CREATE TABLE care_plan_pdf (
    care_plan_id uuid NOT NULL REFERENCES care_plan (id),
    status       text NOT NULL CHECK (status IN ('draft', 'final')),
    pdf          bytea NOT NULL,
    rendered_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (care_plan_id, status)
);

-- Jobs written in the same transaction as the change that causes them.
CREATE TABLE outbox (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job          text NOT NULL,
    subject_id   uuid,
    created_at   timestamptz NOT NULL DEFAULT now(),
    attempts     integer NOT NULL DEFAULT 0,
    arq_job_id   text,
    enqueued_at  timestamptz,
    done_at      timestamptz
);
CREATE INDEX outbox_pending_idx ON outbox (id) WHERE done_at IS NULL;

-- Append-only record of who read, changed or was refused what.
CREATE TABLE audit_event (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at  timestamptz NOT NULL DEFAULT now(),
    actor_id     uuid,
    action       text NOT NULL,
    subject_type text NOT NULL,
    subject_id   uuid,
    outcome      text NOT NULL CHECK (outcome IN ('allowed', 'denied'))
);
CREATE INDEX audit_event_subject_idx ON audit_event (subject_type, subject_id);
CREATE INDEX audit_event_actor_idx ON audit_event (actor_id, occurred_at);

CREATE FUNCTION audit_event_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only' USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_event_append_only
BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_event
FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only();

-- Workers LISTEN on 'outbox' and enqueue each new job as soon as its transaction commits.
CREATE FUNCTION outbox_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('outbox', NEW.id::text);
    RETURN NULL;
END;
$$;

CREATE TRIGGER outbox_notify
AFTER INSERT ON outbox
FOR EACH ROW EXECUTE FUNCTION outbox_notify();
