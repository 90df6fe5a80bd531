-- Care plans: amendments of signed versions, content fixed once written, follow-up on
-- implementation, and the in-app inbox that tells presenters and chairs a plan is ready.

-- An amendment's versions point to the final version they replace (same case, earlier version).
ALTER TABLE care_plan
    ADD COLUMN replaces_version integer,
    ADD CONSTRAINT care_plan_replaces_earlier CHECK (replaces_version < version),
    ADD CONSTRAINT care_plan_replaces_fkey
        FOREIGN KEY (case_id, replaces_version) REFERENCES care_plan (case_id, version);

-- What a version says is fixed when it is written: a draft changes only by its signature
-- (status, signer, time, content hash); anything else is a new version.
CREATE FUNCTION care_plan_content_is_fixed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id <> OLD.id OR NEW.case_id <> OLD.case_id OR NEW.version <> OLD.version
       OR NEW.consensus <> OLD.consensus OR NEW.content <> OLD.content
       OR NEW.source_fingerprint <> OLD.source_fingerprint OR NEW.generated_at <> OLD.generated_at
       OR NEW.replaces_version IS DISTINCT FROM OLD.replaces_version THEN
        RAISE EXCEPTION 'care plan % version % cannot change; write a new version', OLD.case_id, OLD.version
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER care_plan_content_is_fixed
BEFORE UPDATE ON care_plan
FOR EACH ROW EXECUTE FUNCTION care_plan_content_is_fixed();

-- The PDF of a signed version is as immutable as the version itself.
CREATE FUNCTION care_plan_pdf_final_is_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'final' THEN
        RAISE EXCEPTION 'the PDF of a final care plan cannot change'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END;
$$;

CREATE TRIGGER care_plan_pdf_final_is_immutable
BEFORE UPDATE OR DELETE ON care_plan_pdf
FOR EACH ROW EXECUTE FUNCTION care_plan_pdf_final_is_immutable();

-- Refuse a row whose column TG_ARGV[0] points to a care plan version that is not final.
CREATE FUNCTION care_plan_must_be_final() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    target uuid := (to_jsonb(NEW) ->> TG_ARGV[0])::uuid;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM care_plan WHERE id = target AND status = 'final') THEN
        RAISE EXCEPTION '% needs a final care plan version', TG_TABLE_NAME
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$;

-- The chair reopens a signed plan: recommendations may change again and the next version,
-- once signed, replaces the amended one. One amendment per final version, one open per case.
CREATE TABLE care_plan_amendment (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    case_id      uuid NOT NULL REFERENCES patient_case (id),
    amends_id    uuid NOT NULL REFERENCES care_plan (id),
    reason       text NOT NULL CHECK (length(reason) BETWEEN 1 AND 20000),
    requested_by uuid NOT NULL REFERENCES app_user (id),
    requested_at timestamptz NOT NULL DEFAULT now(),
    signed_id    uuid REFERENCES care_plan (id),
    CONSTRAINT care_plan_amendment_once UNIQUE (amends_id),
    CONSTRAINT care_plan_amendment_signs_another CHECK (signed_id <> amends_id)
);
CREATE UNIQUE INDEX care_plan_amendment_open_idx ON care_plan_amendment (case_id) WHERE signed_id IS NULL;

CREATE TRIGGER care_plan_amendment_of_final
BEFORE INSERT ON care_plan_amendment
FOR EACH ROW EXECUTE FUNCTION care_plan_must_be_final('amends_id');

-- After signing, the presenter records whether the plan was carried out, and why not (the case is
-- the care plan version's).
CREATE TABLE care_plan_follow_up (
    care_plan_id   uuid PRIMARY KEY REFERENCES care_plan (id),
    implementation text NOT NULL CHECK (implementation IN ('fully', 'partly', 'not')),
    reason         text CHECK (reason IN ('patient_choice', 'comorbidity_or_fitness', 'disease_changed', 'other')),
    reason_text    text CHECK (length(reason_text) BETWEEN 1 AND 20000),
    recorded_by    uuid NOT NULL REFERENCES app_user (id),
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT care_plan_follow_up_reason_unless_fully CHECK ((implementation = 'fully') = (reason IS NULL)),
    CONSTRAINT care_plan_follow_up_text_for_other CHECK (
        (coalesce(reason, '') = 'other') = (reason_text IS NOT NULL)
    )
);

CREATE TRIGGER care_plan_follow_up_of_final
BEFORE INSERT OR UPDATE OF care_plan_id ON care_plan_follow_up
FOR EACH ROW EXECUTE FUNCTION care_plan_must_be_final('care_plan_id');

-- The in-app inbox. One notification per person, kind and version, so a repeated job adds none;
-- the case and version number are read through the care plan version.
CREATE TABLE notification (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      uuid NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    kind         text NOT NULL CHECK (kind IN ('care_plan_draft', 'care_plan_final')),
    care_plan_id uuid NOT NULL REFERENCES care_plan (id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    read_at      timestamptz,
    emailed_at   timestamptz,
    CONSTRAINT notification_once UNIQUE (user_id, kind, care_plan_id)
);
CREATE INDEX notification_user_idx ON notification (user_id, created_at DESC, id DESC);
CREATE INDEX notification_unread_idx ON notification (user_id) WHERE read_at IS NULL;
