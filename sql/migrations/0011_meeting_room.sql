-- The meeting room: the case a running meeting has on screen, the meeting pack, and one model for
-- everything people are told (the scheduling notices join the in-app inbox).

-- The case the chair has put on screen, and since when (the timer runs against the case's slot).
ALTER TABLE meeting
    ADD COLUMN current_case_id    uuid REFERENCES patient_case (id),
    ADD COLUMN current_case_since timestamptz,
    ADD CONSTRAINT meeting_current_case_has_a_start CHECK (
        (current_case_id IS NULL) = (current_case_since IS NULL)
    ),
    ADD CONSTRAINT meeting_current_case_while_running CHECK (
        current_case_id IS NULL OR status = 'in_progress'
    );

-- Only a case on the meeting's agenda can be on its screen, and a meeting that stops running
-- (closed, cancelled) has nothing on screen.
CREATE FUNCTION meeting_current_case_on_agenda() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status <> 'in_progress' THEN
        NEW.current_case_id := NULL;
        NEW.current_case_since := NULL;
    ELSIF NEW.current_case_id IS NOT NULL
          AND NEW.current_case_id IS DISTINCT FROM OLD.current_case_id
          AND NOT EXISTS (SELECT 1 FROM patient_case c
                          WHERE c.id = NEW.current_case_id AND c.meeting_id = NEW.id
                            AND c.status <> 'withdrawn') THEN
        RAISE EXCEPTION 'only a case on the meeting''s agenda can be on its screen'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER meeting_current_case_on_agenda
BEFORE UPDATE OF status, current_case_id ON meeting
FOR EACH ROW EXECUTE FUNCTION meeting_current_case_on_agenda();

-- A case that leaves its meeting (deferred, returned, moved, withdrawn) leaves its screen too.
-- Row-level with a WHEN clause, so placing cases on meetings (from no meeting) never fires it.
CREATE FUNCTION patient_case_leaves_screen() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE meeting SET current_case_id = NULL, current_case_since = NULL
    WHERE id = OLD.meeting_id AND current_case_id = OLD.id;
    RETURN NULL;
END;
$$;

CREATE TRIGGER patient_case_leaves_screen
AFTER UPDATE OF meeting_id, status ON patient_case
FOR EACH ROW
WHEN (OLD.meeting_id IS NOT NULL
      AND (NEW.meeting_id IS DISTINCT FROM OLD.meeting_id OR NEW.status = 'withdrawn'))
EXECUTE FUNCTION patient_case_leaves_screen();

-- The meeting pack: per case its summary, question, clinical data and the recommendations so far,
-- rendered by a worker. Keyed by a fingerprint of what it shows, so an unchanged pack is never
-- rendered twice; older renderings of a meeting are dropped when a newer one is stored.
CREATE TABLE meeting_pack (
    meeting_id  uuid NOT NULL REFERENCES meeting (id) ON DELETE CASCADE,
    fingerprint text NOT NULL CHECK (fingerprint ~ '^[0-9a-f]{64}$'),
    pdf         bytea NOT NULL,
    rendered_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (meeting_id, fingerprint)
);

-- One model for notices: what scheduling must tell people (an agenda sent, a case on an agenda,
-- a case that missed the agenda lock, a reminder of missing items) is an inbox notification like
-- the care plan notices, delivered by the same inbox and emails.
ALTER TABLE notification
    DROP CONSTRAINT notification_kind_check,
    ADD CONSTRAINT notification_kind_check CHECK (
        kind IN ('care_plan_draft', 'care_plan_final', 'case_returned', 'agenda', 'case_on_agenda',
                 'case_deferred', 'missing_items')
    ),
    DROP CONSTRAINT notification_subject,
    ADD CONSTRAINT notification_subject CHECK (
        CASE WHEN kind IN ('care_plan_draft', 'care_plan_final')
                 THEN care_plan_id IS NOT NULL AND case_id IS NULL AND meeting_id IS NULL
             WHEN kind = 'agenda'
                 THEN care_plan_id IS NULL AND case_id IS NULL AND meeting_id IS NOT NULL
             ELSE care_plan_id IS NULL AND case_id IS NOT NULL AND meeting_id IS NOT NULL
        END
    );

-- Each meeting notice once per person, kind, meeting and case (none for the agenda itself).
DROP INDEX notification_case_returned_once;
CREATE UNIQUE INDEX notification_meeting_notice_once
    ON notification (user_id, kind, meeting_id, case_id) NULLS NOT DISTINCT
    WHERE care_plan_id IS NULL;

INSERT INTO notification (user_id, kind, case_id, meeting_id, created_at)
SELECT recipient_id, kind, case_id, meeting_id, created_at
FROM scheduling_notice
ON CONFLICT DO NOTHING;

DROP TABLE scheduling_notice;
