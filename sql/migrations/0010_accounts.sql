-- Accounts a hospital's security review would pass: forced password changes, tokens and sessions
-- with a public id, an absolute end and where they were issued to, sign-in throttling kept in the
-- database (so it holds across web processes and restarts), an audit trail that says where each
-- request came from, and patients submitted under a known MRN with other details.

ALTER TABLE app_user
    ADD COLUMN password_change_required boolean NOT NULL DEFAULT false,
    ADD COLUMN password_changed_at      timestamptz;

-- `id` names a token or session in the audit trail and on the sessions page (the hash is the key);
-- `ends_at` is the absolute end: a session's sliding idle expiry never passes it.
ALTER TABLE access_token
    ADD COLUMN id             uuid NOT NULL DEFAULT gen_random_uuid(),
    ADD COLUMN ends_at        timestamptz,
    ADD COLUMN source_address inet,
    ADD COLUMN user_agent     text CHECK (length(user_agent) <= 300);
UPDATE access_token SET ends_at = expires_at;
ALTER TABLE access_token
    ALTER COLUMN ends_at SET NOT NULL,
    ADD CONSTRAINT access_token_id_key UNIQUE (id),
    ADD CONSTRAINT access_token_within_end CHECK (expires_at <= ends_at);

-- Failed password checks, per account (the email as typed, whether or not it exists) and per client
-- address; and the locks they caused. A lock runs from the failure that completed the count.
CREATE TABLE sign_in_failure (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    scope     text NOT NULL CHECK (scope IN ('account', 'address')),
    key       text NOT NULL CHECK (length(key) <= 200),
    failed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sign_in_failure_key_idx ON sign_in_failure (scope, key, failed_at);

CREATE TABLE sign_in_lock (
    scope        text NOT NULL CHECK (scope IN ('account', 'address')),
    key          text NOT NULL CHECK (length(key) <= 200),
    locked_from  timestamptz NOT NULL,
    locked_until timestamptz NOT NULL CHECK (locked_until > locked_from),
    PRIMARY KEY (scope, key)
);

-- The live agenda's open event streams, for the per-user limit across web processes. A stream
-- lasts about a minute; a row left behind by a killed process stops counting after two.
CREATE TABLE live_stream (
    id        uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id   uuid NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    opened_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX live_stream_user_idx ON live_stream (user_id, opened_at);

-- Where each audited request came from: the client address (behind trusted proxies, the forwarded
-- one), its user agent, the token or session it used, the representation served for reads of
-- documents, and the status of a refusal. All nullable without defaults: adding them rewrites
-- nothing, and jobs (no request) leave them empty.
ALTER TABLE audit_event
    ADD COLUMN source_address inet,
    ADD COLUMN user_agent     text,
    ADD COLUMN credential_id  uuid,
    ADD COLUMN format         text CHECK (format IN ('json', 'html', 'pdf', 'fhir', 'attachment', 'csv', 'ics')),
    ADD COLUMN status_code    smallint;
CREATE INDEX audit_event_subject_id_idx ON audit_event (subject_id, id);

-- A presenter who submits a known MRN with other details gets a case all the same (so nobody learns
-- whether a patient exists): the details they sent are kept as their own patient row pointing at
-- the recorded one, and coordinators see the mismatch.
ALTER TABLE patient
    ADD COLUMN recorded_patient_id uuid REFERENCES patient (id);
ALTER TABLE patient DROP CONSTRAINT patient_mrn_key;
CREATE UNIQUE INDEX patient_mrn_key ON patient (mrn) WHERE recorded_patient_id IS NULL;
CREATE UNIQUE INDEX patient_submitted_details_key
    ON patient (recorded_patient_id, given_name, family_name, birth_date, sex)
    WHERE recorded_patient_id IS NOT NULL;
