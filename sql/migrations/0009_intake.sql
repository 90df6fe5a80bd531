-- Structured intake and case attachments.
--
-- The diagnosis (date, laterality, ICD-O-3 topography and morphology), the stage (type, edition) and
-- each biomarker (LOINC code, unit, date, method) grow inside their existing jsonb columns; what a
-- case adds beside them gets columns of its own. treatment_started is NULL when the presenter did
-- not say (the quality report counts a case as prospective only when it is false).
ALTER TABLE patient_case
    ADD COLUMN prior_treatments  jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(prior_treatments) = 'array'),
    ADD COLUMN comorbidities     jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(comorbidities) = 'array'),
    ADD COLUMN treatment_started boolean;

-- Documents attached to a case (pathology and imaging reports, letters), kept in PostgreSQL, the one
-- durable store. The media type is judged from the content by the service; the database holds the
-- limits: a known type, at most 20 MiB, a size that is the content's, a SHA-256 digest of 32 bytes.
CREATE TABLE case_attachment (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    case_id       uuid NOT NULL REFERENCES patient_case (id) ON DELETE CASCADE,
    kind          text NOT NULL CHECK (kind IN ('pathology_report', 'imaging_report', 'letter', 'other')),
    filename      text NOT NULL CHECK (length(filename) BETWEEN 1 AND 200 AND strpos(filename, '/') = 0),
    media_type    text NOT NULL CHECK (media_type IN ('application/pdf', 'image/png', 'image/jpeg')),
    size          integer NOT NULL CHECK (size BETWEEN 1 AND 20971520),
    sha256        bytea NOT NULL CHECK (length(sha256) = 32),
    document_date date,
    content       bytea NOT NULL,
    uploaded_by   uuid NOT NULL REFERENCES app_user (id),
    uploaded_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT case_attachment_size_is_content CHECK (size = octet_length(content))
);
CREATE INDEX case_attachment_case_idx ON case_attachment (case_id, kind, document_date);

-- The dates that satisfy a case's dated readiness items: the newest of what the presenter recorded
-- (case_readiness) and of the dated attachments of that kind; and whether an attachment of that kind
-- came without a date (it cannot date the item).
CREATE FUNCTION case_report_dates(case_id uuid)
RETURNS TABLE (
    pathology_report_on date, imaging_on date, undated_pathology_report boolean, undated_imaging boolean
)
LANGUAGE sql STABLE AS $$
    SELECT greatest(
               (SELECT r.pathology_report_on FROM case_readiness r WHERE r.case_id = case_report_dates.case_id),
               (SELECT max(a.document_date) FROM case_attachment a
                WHERE a.case_id = case_report_dates.case_id AND a.kind = 'pathology_report')),
           greatest(
               (SELECT r.imaging_on FROM case_readiness r WHERE r.case_id = case_report_dates.case_id),
               (SELECT max(a.document_date) FROM case_attachment a
                WHERE a.case_id = case_report_dates.case_id AND a.kind = 'imaging_report')),
           EXISTS (SELECT 1 FROM case_attachment a
                   WHERE a.case_id = case_report_dates.case_id AND a.kind = 'pathology_report'
                     AND a.document_date IS NULL),
           EXISTS (SELECT 1 FROM case_attachment a
                   WHERE a.case_id = case_report_dates.case_id AND a.kind = 'imaging_report'
                     AND a.document_date IS NULL)
$$;
