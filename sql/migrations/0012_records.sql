-- Records that travel: the clinician who referred the patient, and the letter that tells them the
-- board's signed outcome.

-- The referring clinician named at submission ({name, organisation?, email?}); NULL when not named.
ALTER TABLE patient_case
    ADD COLUMN referrer jsonb CHECK (referrer IS NULL OR (jsonb_typeof(referrer) = 'object' AND referrer ? 'name'));

-- One letter per signed care plan version, rendered by a worker, kept with the plan. Its content is
-- fixed once written; only the time it was emailed may be set, once.
CREATE TABLE referrer_letter (
    id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    care_plan_id           uuid NOT NULL UNIQUE REFERENCES care_plan (id),
    case_id                uuid NOT NULL REFERENCES patient_case (id) ON DELETE CASCADE,
    version                integer NOT NULL CHECK (version >= 1),
    recipient_name         text NOT NULL CHECK (length(recipient_name) BETWEEN 1 AND 200),
    recipient_organisation text CHECK (length(recipient_organisation) BETWEEN 1 AND 200),
    recipient_email        text CHECK (length(recipient_email) BETWEEN 3 AND 200),
    pdf                    bytea NOT NULL CHECK (substring(pdf FROM 1 FOR 5) = '\x255044462d'::bytea),
    created_at             timestamptz NOT NULL DEFAULT now(),
    sent_at                timestamptz,
    CONSTRAINT referrer_letter_sent_by_email CHECK (sent_at IS NULL OR recipient_email IS NOT NULL),
    CONSTRAINT referrer_letter_sent_after_written CHECK (sent_at IS NULL OR sent_at >= created_at),
    UNIQUE (case_id, version)
);

-- A letter tells a signed outcome: its version must be final (the function comes with 0003).
CREATE TRIGGER referrer_letter_needs_final_plan
BEFORE INSERT ON referrer_letter
FOR EACH ROW EXECUTE FUNCTION care_plan_must_be_final('care_plan_id');

CREATE FUNCTION referrer_letter_is_fixed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR (to_jsonb(NEW) - 'sent_at') <> (to_jsonb(OLD) - 'sent_at')
       OR (OLD.sent_at IS NOT NULL AND NEW.sent_at IS DISTINCT FROM OLD.sent_at) THEN
        RAISE EXCEPTION 'a referrer letter cannot change once written (only its sending is recorded, once)'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER referrer_letter_is_fixed
BEFORE UPDATE OR DELETE ON referrer_letter
FOR EACH ROW EXECUTE FUNCTION referrer_letter_is_fixed();
