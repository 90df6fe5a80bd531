-- Scheduling: board settings and readiness checklists, recurring meeting series, the time budget
-- of a meeting, the agenda lock and its distribution, attendance, and calendar feed tokens.

-- Each board plans in its own time zone, gives each case a number of minutes by default and
-- freezes its agendas a number of hours before the start.
ALTER TABLE board
    ADD COLUMN time_zone         text NOT NULL DEFAULT 'UTC' CHECK (length(time_zone) BETWEEN 1 AND 64),
    ADD COLUMN minutes_per_case  integer NOT NULL DEFAULT 6 CHECK (minutes_per_case BETWEEN 1 AND 240),
    ADD COLUMN agenda_lock_hours integer NOT NULL DEFAULT 24 CHECK (agenda_lock_hours BETWEEN 0 AND 336);

-- What a case needs before its board discusses it; dated items may carry a maximum age.
CREATE TABLE board_checklist_item (
    board_id     uuid NOT NULL REFERENCES board (id) ON DELETE CASCADE,
    item         text NOT NULL CHECK (item IN (
        'stage', 'histology', 'ecog', 'biomarkers', 'pathology_report', 'imaging'
    )),
    max_age_days integer CHECK (max_age_days BETWEEN 1 AND 3650),
    position     smallint NOT NULL CHECK (position >= 0),
    PRIMARY KEY (board_id, item),
    CONSTRAINT checklist_age_only_for_dated_items CHECK (
        max_age_days IS NULL OR item IN ('pathology_report', 'imaging')
    )
);

INSERT INTO board_checklist_item (board_id, item, max_age_days, position)
SELECT b.id, d.item, d.max_age_days, d.position
FROM board b
CROSS JOIN (VALUES ('stage', NULL::integer, 0), ('pathology_report', NULL, 1), ('imaging', 60, 2), ('ecog', NULL, 3))
    AS d (item, max_age_days, position);

-- A board's recurring meeting: an RFC 5545 RRULE expanded in the series' time zone.
CREATE TABLE meeting_series (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    board_id         uuid NOT NULL REFERENCES board (id),
    recurrence_rule  text NOT NULL CHECK (length(recurrence_rule) BETWEEN 1 AND 500),
    starts_on        date NOT NULL,
    start_time       time NOT NULL,
    time_zone        text NOT NULL CHECK (length(time_zone) BETWEEN 1 AND 64),
    duration_minutes integer NOT NULL CHECK (duration_minutes BETWEEN 5 AND 1440),
    location         text CHECK (length(location) <= 200),
    video_url        text CHECK (length(video_url) <= 2000),
    capacity         integer NOT NULL CHECK (capacity BETWEEN 1 AND 200),
    minutes_per_case integer NOT NULL CHECK (minutes_per_case BETWEEN 1 AND 240),
    deadline_hours   integer NOT NULL CHECK (deadline_hours BETWEEN 0 AND 720),
    horizon_days     integer NOT NULL CHECK (horizon_days BETWEEN 7 AND 366),
    generated_until  timestamptz,
    ended_at         timestamptz,
    created_by       uuid NOT NULL REFERENCES app_user (id),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX meeting_series_board_idx ON meeting_series (board_id);

-- The participants every new occurrence starts with.
CREATE TABLE meeting_series_participant (
    series_id uuid NOT NULL REFERENCES meeting_series (id) ON DELETE CASCADE,
    user_id   uuid NOT NULL REFERENCES app_user (id),
    role      text NOT NULL CHECK (role IN ('chair', 'reviewer')),
    PRIMARY KEY (series_id, user_id)
);
CREATE UNIQUE INDEX meeting_series_one_chair_idx ON meeting_series_participant (series_id) WHERE role = 'chair';

-- booked_minutes is the time the meeting's cases take; the CHECK refuses to book past the
-- meeting's duration, whatever the application does (case_count is kept by its trigger).
-- occurrence_on is the date an occurrence was generated for (its RECURRENCE-ID): it does not
-- change when the occurrence is moved, so generating again never duplicates it.
ALTER TABLE meeting
    ADD COLUMN series_id        uuid REFERENCES meeting_series (id),
    ADD COLUMN occurrence_on    date,
    ADD COLUMN minutes_per_case integer NOT NULL DEFAULT 6 CHECK (minutes_per_case BETWEEN 1 AND 240),
    ADD COLUMN booked_minutes   integer GENERATED ALWAYS AS (case_count * minutes_per_case) STORED,
    ADD COLUMN agenda_lock_hours integer NOT NULL DEFAULT 24 CHECK (agenda_lock_hours BETWEEN 0 AND 336),
    ADD COLUMN agenda_locks_at  timestamptz,
    ADD COLUMN agenda_locked_at timestamptz,
    ADD COLUMN agenda_sent_at   timestamptz,
    ADD COLUMN agenda_sent_fingerprint text,
    ADD COLUMN presenters_reminded_at timestamptz,
    ADD COLUMN own_participants boolean NOT NULL DEFAULT false,
    ADD COLUMN sequence         integer NOT NULL DEFAULT 0 CHECK (sequence >= 0),
    ADD COLUMN started_at       timestamptz,
    ADD COLUMN closed_at        timestamptz,
    ADD CONSTRAINT meeting_within_time_budget CHECK (booked_minutes <= duration_minutes),
    ADD CONSTRAINT meeting_series_occurrence_key UNIQUE (series_id, occurrence_on),
    ADD CONSTRAINT meeting_occurrence_has_series CHECK ((series_id IS NULL) = (occurrence_on IS NULL));

-- The agenda locks a fixed number of hours before the start, wherever the start moves.
CREATE FUNCTION meeting_agenda_locks_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.agenda_locks_at := NEW.starts_at - make_interval(hours => NEW.agenda_lock_hours);
    RETURN NEW;
END;
$$;

CREATE TRIGGER meeting_agenda_locks_at
BEFORE INSERT OR UPDATE OF starts_at, agenda_lock_hours ON meeting
FOR EACH ROW EXECUTE FUNCTION meeting_agenda_locks_at();

UPDATE meeting SET agenda_lock_hours = agenda_lock_hours;
ALTER TABLE meeting ALTER COLUMN agenda_locks_at SET NOT NULL;
CREATE INDEX meeting_agenda_due_idx ON meeting (agenda_locks_at)
    WHERE status = 'scheduled' AND agenda_locked_at IS NULL;
CREATE INDEX meeting_series_starts_idx ON meeting (series_id, starts_at) WHERE series_id IS NOT NULL;

-- The agenda as frozen at its lock; cases added later (urgent ones) have no position here.
CREATE TABLE agenda_item (
    meeting_id uuid NOT NULL REFERENCES meeting (id) ON DELETE CASCADE,
    case_id    uuid NOT NULL REFERENCES patient_case (id) ON DELETE CASCADE,
    position   integer NOT NULL CHECK (position > 0),
    PRIMARY KEY (meeting_id, case_id),
    CONSTRAINT agenda_item_position_key UNIQUE (meeting_id, position)
);

-- A routine case that was not ready at its meeting's agenda lock and left for the next meeting;
-- placed_on_meeting_id is filled when it lands on one, so its note can say where it came from.
CREATE TABLE agenda_deferral (
    case_id              uuid NOT NULL REFERENCES patient_case (id) ON DELETE CASCADE,
    meeting_id           uuid NOT NULL REFERENCES meeting (id) ON DELETE CASCADE,
    missing_items        text[] NOT NULL CHECK (cardinality(missing_items) > 0),
    deferred_at          timestamptz NOT NULL DEFAULT now(),
    placed_on_meeting_id uuid REFERENCES meeting (id) ON DELETE SET NULL,
    PRIMARY KEY (case_id, meeting_id)
);
CREATE INDEX agenda_deferral_pending_idx ON agenda_deferral (case_id) WHERE placed_on_meeting_id IS NULL;

-- When the last assignment pass over a group of disease sites began (written under that group's
-- advisory lock): a worker that found the group busy skips it when a pass began after its own job.
CREATE TABLE assignment_pass (
    group_key  text PRIMARY KEY CHECK (length(group_key) BETWEEN 1 AND 64),
    started_at timestamptz NOT NULL
);

-- Dated readiness evidence the presenter records for a case.
CREATE TABLE case_readiness (
    case_id             uuid PRIMARY KEY REFERENCES patient_case (id) ON DELETE CASCADE,
    pathology_report_on date,
    imaging_on          date,
    updated_by          uuid NOT NULL REFERENCES app_user (id),
    updated_at          timestamptz NOT NULL DEFAULT now()
);

-- Who attended; only participants can be recorded (the foreign key), once the meeting started.
CREATE TABLE meeting_attendance (
    meeting_id  uuid NOT NULL,
    user_id     uuid NOT NULL,
    status      text NOT NULL CHECK (status IN ('present', 'absent', 'excused')),
    recorded_by uuid NOT NULL REFERENCES app_user (id),
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (meeting_id, user_id),
    FOREIGN KEY (meeting_id, user_id) REFERENCES meeting_participant (meeting_id, user_id) ON DELETE CASCADE
);

-- Rendered agenda PDFs, one per meeting and agenda content (fingerprint).
CREATE TABLE agenda_pdf (
    meeting_id  uuid NOT NULL REFERENCES meeting (id) ON DELETE CASCADE,
    fingerprint text NOT NULL,
    pdf         bytea NOT NULL,
    rendered_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (meeting_id, fingerprint)
);

-- What the scheduler has to tell people (ids only, never patient data). A delivery channel
-- (an in-app inbox, e-mail) sends the rows whose delivered_at is NULL and fills it in.
CREATE TABLE scheduling_notice (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    meeting_id   uuid NOT NULL REFERENCES meeting (id) ON DELETE CASCADE,
    recipient_id uuid NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    kind         text NOT NULL CHECK (kind IN ('missing_items', 'agenda', 'case_on_agenda', 'case_deferred')),
    case_id      uuid REFERENCES patient_case (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz,
    CONSTRAINT scheduling_notice_once UNIQUE NULLS NOT DISTINCT (meeting_id, recipient_id, kind, case_id)
);
CREATE INDEX scheduling_notice_undelivered_idx ON scheduling_notice (id) WHERE delivered_at IS NULL;

-- Secret calendar subscription URLs (calendar clients cannot send a bearer token); only a
-- SHA-256 of the secret is stored.
CREATE TABLE calendar_feed (
    user_id    uuid PRIMARY KEY REFERENCES app_user (id) ON DELETE CASCADE,
    token_hash bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT calendar_feed_token_key UNIQUE (token_hash)
);

-- Count cases per meeting once per statement instead of once per row: an assignment pass that
-- places thousands of cases in one UPDATE then touches each meeting once. Same rule as before
-- (a case counts while it is on the meeting and not withdrawn); the CHECKs on meeting still
-- refuse overbooking at the end of every statement.
DROP TRIGGER patient_case_count_on_meeting ON patient_case;
DROP FUNCTION patient_case_count_on_meeting();

CREATE FUNCTION patient_case_count_on_meetings() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE meeting m SET case_count = m.case_count + d.delta
        FROM (SELECT meeting_id, count(*)::integer AS delta FROM new_cases
              WHERE meeting_id IS NOT NULL AND status <> 'withdrawn' GROUP BY meeting_id) d
        WHERE m.id = d.meeting_id;
    ELSIF TG_OP = 'DELETE' THEN
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

CREATE TRIGGER patient_case_count_on_insert
AFTER INSERT ON patient_case REFERENCING NEW TABLE AS new_cases
FOR EACH STATEMENT EXECUTE FUNCTION patient_case_count_on_meetings();

CREATE TRIGGER patient_case_count_on_update
AFTER UPDATE ON patient_case REFERENCING OLD TABLE AS old_cases NEW TABLE AS new_cases
FOR EACH STATEMENT EXECUTE FUNCTION patient_case_count_on_meetings();

CREATE TRIGGER patient_case_count_on_delete
AFTER DELETE ON patient_case REFERENCING OLD TABLE AS old_cases
FOR EACH STATEMENT EXECUTE FUNCTION patient_case_count_on_meetings();
