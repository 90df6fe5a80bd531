-- name: insert_case_for_patient^
-- Find or create the patient by MRN and add the case with its audit event and assignment job, unless
-- the Idempotency-Key was used already (id is then NULL). A known MRN sent with other details makes
-- a case all the same, on a patient row of the details sent that points at the recorded one.
-- One statement because submission is the hottest write (see docs/benchmarks.md): atomic without a
-- transaction around it, and the caller is known or named by the request's bearer token, checked
-- here (request_caller). Nothing is written unless the caller presents cases and may act; no row at
-- all: the token is not live.
WITH caller AS (
    SELECT * FROM request_caller(:token_hash, :caller_id, :credential_id, :caller_roles)
), presenter AS (
    SELECT user_id, token_id FROM caller WHERE 'presenter' = ANY (roles) AND NOT password_change_required
), recorded AS (
    INSERT INTO patient (mrn, given_name, family_name, birth_date, sex)
    SELECT :mrn, :given_name, :family_name, :birth_date, :sex FROM presenter
    ON CONFLICT (mrn) WHERE recorded_patient_id IS NULL DO UPDATE SET mrn = EXCLUDED.mrn
    RETURNING id, (given_name, family_name, birth_date, sex) = (:given_name, :family_name, :birth_date, :sex)
        AS same_patient
), submitted AS (
    -- The MRN is recorded with other details: keep what was sent, pointing at the recorded patient.
    INSERT INTO patient (mrn, given_name, family_name, birth_date, sex, recorded_patient_id)
    SELECT :mrn, :given_name, :family_name, :birth_date, :sex, id FROM recorded WHERE NOT same_patient
    ON CONFLICT (recorded_patient_id, given_name, family_name, birth_date, sex)
        WHERE recorded_patient_id IS NOT NULL
    DO UPDATE SET mrn = EXCLUDED.mrn
    RETURNING id
), patient_row AS (
    SELECT coalesce((SELECT id FROM submitted), recorded.id) AS id FROM recorded
), new_case AS (
    INSERT INTO patient_case (
        patient_id, presenter_id, disease_site, diagnosis, histology, stage, ecog, biomarkers,
        summary, question, urgency, discuss_by, idempotency_key, request_fingerprint,
        prior_treatments, comorbidities, treatment_started, referrer)
    SELECT patient_row.id, presenter.user_id, :disease_site, :diagnosis, :histology, :stage, :ecog, :biomarkers,
           :summary, :question, :urgency, :discuss_by, :idempotency_key, :request_fingerprint,
           :prior_treatments, :comorbidities, :treatment_started, :referrer
    FROM patient_row, presenter
    ON CONFLICT (presenter_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
    RETURNING id, created_at, updated_at
), audit_row AS (
    INSERT INTO audit_event (
        actor_id, action, subject_type, subject_id, outcome, source_address, user_agent, credential_id, format)
    SELECT presenter.user_id, 'create', 'case', new_case.id, 'allowed', :source_address, :user_agent,
           presenter.token_id, :format
    FROM new_case, presenter
), job_row AS (
    INSERT INTO outbox (job, subject_id, request_id) SELECT :job, id, :request_id FROM new_case
)
SELECT new_case.id, new_case.created_at, new_case.updated_at,
       caller.user_id AS caller_id, caller.token_id AS caller_token_id,
       caller.roles AS caller_roles, caller.password_change_required AS caller_password_change_required,
       caller.email AS caller_email, caller.full_name AS caller_full_name,
       caller.discipline AS caller_discipline, caller.created_at AS caller_created_at,
       caller.ends_at AS caller_ends_at
FROM caller
LEFT JOIN new_case ON true;

-- name: get_case_by_idempotency_key^
-- The case a presenter already created with this Idempotency-Key.
SELECT id, request_fingerprint
FROM patient_case
WHERE presenter_id = :presenter_id AND idempotency_key = :idempotency_key;

-- name: get_case^
-- One case with its patient.
SELECT c.id, c.status, c.meeting_id, c.assignment_note, c.presenter_id, c.disease_site, c.diagnosis,
       c.histology, c.stage, c.ecog, c.biomarkers, c.summary, c.question, c.urgency, c.discuss_by,
       c.absent_disciplines, c.discussion_closed_at, c.created_at, c.updated_at,
       c.prior_treatments, c.comorbidities, c.treatment_started, c.referrer,
       (SELECT b.required_disciplines FROM meeting m JOIN board b ON b.id = m.board_id
        WHERE m.id = c.meeting_id) AS required_disciplines,
       (SELECT coalesce(array_agg(DISTINCT r.discipline), '{}') FROM recommendation r
        WHERE r.case_id = c.id) AS recommended_disciplines,
       p.mrn, p.given_name, p.family_name, p.birth_date, p.sex
FROM patient_case c
JOIN patient p ON p.id = c.patient_id
WHERE c.id = :id;

-- name: read_case_for_caller^
-- One case with its patient and whether the caller may see it (case_visible_to; coordinators see
-- every case); an allowed read is audited in the same statement. The caller is known, or named by
-- the request's bearer token, checked here (request_caller): the hottest read is one round trip
-- (see docs/benchmarks.md). No row: the token is not live; a row without a case id: no such case.
WITH caller AS (
    SELECT * FROM request_caller(:token_hash, :caller_id, :credential_id, :caller_roles)
), found AS (
    SELECT c.id, c.status, c.meeting_id, c.assignment_note, c.presenter_id, c.disease_site, c.diagnosis,
           c.histology, c.stage, c.ecog, c.biomarkers, c.summary, c.question, c.urgency, c.discuss_by,
           c.absent_disciplines, c.discussion_closed_at, c.created_at, c.updated_at,
           c.prior_treatments, c.comorbidities, c.treatment_started, c.referrer,
           (SELECT b.required_disciplines FROM meeting m JOIN board b ON b.id = m.board_id
            WHERE m.id = c.meeting_id) AS required_disciplines,
           (SELECT coalesce(array_agg(DISTINCT r.discipline), '{}') FROM recommendation r
            WHERE r.case_id = c.id) AS recommended_disciplines,
           p.mrn, p.given_name, p.family_name, p.birth_date, p.sex,
           CASE WHEN 'coordinator' = ANY (caller.roles) THEN p.recorded_patient_id IS NOT NULL END
               AS patient_mismatch,
           case_visible_to(c.presenter_id, c.meeting_id, caller.user_id, 'coordinator' = ANY (caller.roles))
               AS caller_may_view
    FROM caller
    JOIN patient_case c ON c.id = :id
    JOIN patient p ON p.id = c.patient_id
), audit_row AS (
    INSERT INTO audit_event (
        actor_id, action, subject_type, subject_id, outcome, source_address, user_agent, credential_id, format)
    SELECT caller.user_id, :action, 'case', found.id, 'allowed', :source_address, :user_agent, caller.token_id,
           :format
    FROM found, caller
    WHERE found.caller_may_view AND NOT caller.password_change_required
)
SELECT found.*, caller.user_id AS caller_id, caller.token_id AS caller_token_id,
       caller.roles AS caller_roles, caller.password_change_required AS caller_password_change_required,
       caller.email AS caller_email, caller.full_name AS caller_full_name,
       caller.discipline AS caller_discipline, caller.created_at AS caller_created_at,
       caller.ends_at AS caller_ends_at
FROM caller
LEFT JOIN found ON true;

-- name: lock_case^
-- Lock a case before changing its state (cases before meetings, always).
SELECT id, status, meeting_id, presenter_id, disease_site
FROM patient_case
WHERE id = :id
FOR UPDATE;

-- name: list_cases
-- Cases the caller may see, newest first, filtered and searched, keyset-paginated, for a caller who
-- does not see every case or asks for their own (list_every_case has the others). The rule is
-- case_visible_to's, taken as two paths that an index each returns newest first: a presenter's own
-- cases, and case_participant (the cases on a participant's meetings that they did not present,
-- left out when `mine`). Planned for each call's values (plan_case_list), the paths
-- and filters that do not apply fold away, so a page costs what it shows, not what the table holds.
-- (The viewer is a plain equality, and the path a separate condition, so that the planner can merge
-- the paths in order; see docs/benchmarks.md.) A search is matched on each path's own rows: inside
-- the presenter path, planned with that path alone, so that a presenter's search combines their
-- cases and the word index (a BitmapAnd) before reading a row, however many cases they presented
-- (the outer condition lets that path's rows through); on the participant path, against the cases
-- matching the words.
SELECT c.id, c.status, c.meeting_id, c.assignment_note, c.presenter_id, c.disease_site, c.diagnosis,
       c.histology, c.stage, c.ecog, c.biomarkers, c.summary, c.question, c.urgency, c.discuss_by,
       c.absent_disciplines, c.discussion_closed_at, c.created_at, c.updated_at,
       c.prior_treatments, c.comorbidities, c.treatment_started, c.referrer,
       p.mrn, p.given_name, p.family_name, p.birth_date, p.sex,
       CASE WHEN :sees_all THEN p.recorded_patient_id IS NOT NULL END AS patient_mismatch
FROM (
    SELECT 'presenter', presenter_id, id, created_at FROM patient_case
    WHERE :words::text IS NULL OR search_vector @@ case_search_query(:words)
    UNION ALL
    SELECT 'participant', user_id, case_id, case_created_at FROM case_participant
) AS visible (path, viewer_id, id, created_at)
JOIN patient_case c ON c.id = visible.id
JOIN patient p ON p.id = c.patient_id
WHERE (visible.path = 'presenter' OR NOT :mine)
  AND visible.viewer_id = :user_id
  AND (:status::text IS NULL OR c.status = :status)
  AND (:meeting_id::uuid IS NULL OR c.meeting_id = :meeting_id)
  AND (:disease_site::text IS NULL OR c.disease_site = :disease_site)
  AND (:board_id::uuid IS NULL OR c.meeting_id IN (SELECT id FROM meeting WHERE board_id = :board_id))
  AND (:submitted_from::timestamptz IS NULL OR c.created_at >= :submitted_from)
  AND (:submitted_before::timestamptz IS NULL OR c.created_at < :submitted_before)
  AND (:words::text IS NULL OR visible.path = 'presenter'
       OR visible.id IN (SELECT id FROM patient_case WHERE search_vector @@ case_search_query(:words)))
  AND (:before_created_at::timestamptz IS NULL
       OR (visible.created_at, visible.id) < (:before_created_at, :before_id::uuid))
ORDER BY visible.created_at DESC, visible.id DESC
LIMIT :limit;

-- name: list_every_case
-- The case list of a caller who sees every case (a coordinator, not asking for their own): the
-- same page as list_cases, with the same filters, read from the cases alone, so that the index of
-- a filter in the order of the page (patient_case_site_created_idx for a site, the meeting's, the
-- created one for none) is walked newest first and stops at the page, without joining each match
-- to a visibility path before sorting (see docs/benchmarks.md). Keep its filters as list_cases's.
SELECT c.id, c.status, c.meeting_id, c.assignment_note, c.presenter_id, c.disease_site, c.diagnosis,
       c.histology, c.stage, c.ecog, c.biomarkers, c.summary, c.question, c.urgency, c.discuss_by,
       c.absent_disciplines, c.discussion_closed_at, c.created_at, c.updated_at,
       c.prior_treatments, c.comorbidities, c.treatment_started, c.referrer,
       p.mrn, p.given_name, p.family_name, p.birth_date, p.sex,
       p.recorded_patient_id IS NOT NULL AS patient_mismatch
FROM patient_case c
JOIN patient p ON p.id = c.patient_id
WHERE (:status::text IS NULL OR c.status = :status)
  AND (:meeting_id::uuid IS NULL OR c.meeting_id = :meeting_id)
  AND (:disease_site::text IS NULL OR c.disease_site = :disease_site)
  AND (:board_id::uuid IS NULL OR c.meeting_id IN (SELECT id FROM meeting WHERE board_id = :board_id))
  AND (:submitted_from::timestamptz IS NULL OR c.created_at >= :submitted_from)
  AND (:submitted_before::timestamptz IS NULL OR c.created_at < :submitted_before)
  AND (:words::text IS NULL OR c.search_vector @@ case_search_query(:words))
  AND (:before_created_at::timestamptz IS NULL OR (c.created_at, c.id) < (:before_created_at, :before_id::uuid))
ORDER BY c.created_at DESC, c.id DESC
LIMIT :limit;

-- name: plan_case_list!
-- Until the end of the caller's transaction: plan the case list for each call's own filters (each
-- picks its own index), without parallel workers or JIT compilation (a page of fifty needs neither,
-- and both cost more than the page), and stop any statement after the timeout.
SELECT set_config('plan_cache_mode', 'force_custom_plan', true),
       set_config('max_parallel_workers_per_gather', '0', true),
       set_config('jit', 'off', true),
       set_config('statement_timeout', (:timeout_ms::integer)::text, true);

-- name: change_case_status!
-- One case's step along the lifecycle (from and to come from tumorboard.cases.lifecycle).
UPDATE patient_case SET status = :to_status, updated_at = now()
WHERE id = :id AND status = ANY (:from_statuses::text[]);
