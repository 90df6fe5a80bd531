-- name: get_latest_care_plan^
-- The newest version of a case's care plan, with its signer's name.
SELECT cp.id, cp.case_id, cp.version, cp.status, cp.consensus, cp.content, cp.source_fingerprint,
       cp.generated_at, cp.signed_by, u.full_name AS signed_by_name, cp.signed_at, cp.content_hash
FROM latest_care_plan cp
LEFT JOIN app_user u ON u.id = cp.signed_by
WHERE cp.case_id = :case_id;

-- name: get_latest_care_plan_state^
-- The newest version's identity and sources, without its content (consolidation, amendment).
SELECT id, version, status, source_fingerprint
FROM latest_care_plan
WHERE case_id = :case_id;

-- name: get_care_plan^
-- One care plan version by id, with its signer's name.
SELECT cp.id, cp.case_id, cp.version, cp.status, cp.consensus, cp.content, cp.source_fingerprint,
       cp.generated_at, cp.signed_by, u.full_name AS signed_by_name, cp.signed_at, cp.content_hash
FROM care_plan cp
LEFT JOIN app_user u ON u.id = cp.signed_by
WHERE cp.id = :id;

-- name: get_care_plan_version^
-- One version of a case's care plan by number, with its signer's name.
SELECT cp.id, cp.case_id, cp.version, cp.status, cp.consensus, cp.content, cp.source_fingerprint,
       cp.generated_at, cp.signed_by, u.full_name AS signed_by_name, cp.signed_at, cp.content_hash
FROM care_plan cp
LEFT JOIN app_user u ON u.id = cp.signed_by
WHERE cp.case_id = :case_id AND cp.version = :version;

-- name: list_care_plan_versions
-- Every version of a case's care plan, oldest first, with signers' names.
SELECT cp.id, cp.case_id, cp.version, cp.status, cp.consensus, cp.content, cp.source_fingerprint,
       cp.generated_at, cp.signed_by, u.full_name AS signed_by_name, cp.signed_at, cp.content_hash
FROM care_plan cp
LEFT JOIN app_user u ON u.id = cp.signed_by
WHERE cp.case_id = :case_id
ORDER BY cp.version;

-- name: insert_care_plan$
-- Write a new version; UNIQUE (case_id, version) refuses a duplicate.
INSERT INTO care_plan (case_id, version, consensus, content, source_fingerprint, replaces_version, decision_id)
VALUES (:case_id, :version, :consensus, :content, :source_fingerprint, :replaces_version, :decision_id)
RETURNING id;

-- name: sign_care_plan!
-- The chair signs a draft; it becomes final and immutable.
UPDATE care_plan
SET status = 'final', signed_by = :signed_by, signed_at = :signed_at, content_hash = :content_hash
WHERE id = :id AND status = 'draft';

-- name: get_care_plan_pdf$
-- The rendered PDF of a version in a given status.
SELECT pdf FROM care_plan_pdf WHERE care_plan_id = :care_plan_id AND status = :status;

-- name: insert_care_plan_pdf!
-- Store a rendered PDF once.
INSERT INTO care_plan_pdf (care_plan_id, status, pdf)
VALUES (:care_plan_id, :status, :pdf)
ON CONFLICT (care_plan_id, status) DO NOTHING;

-- name: insert_care_plan_amendment<!
-- The chair reopens a signed version.
INSERT INTO care_plan_amendment (case_id, amends_id, reason, requested_by)
VALUES (:case_id, :amends_id, :reason, :requested_by)
RETURNING id, requested_at;

-- name: get_open_care_plan_amendment^
-- The amendment of a case waiting for its new version to be signed, with the amended version.
SELECT a.id, a.amends_id, cp.version AS amends_version, a.reason, a.requested_by,
       u.full_name AS requested_by_name, a.requested_at
FROM care_plan_amendment a
JOIN care_plan cp ON cp.id = a.amends_id
JOIN app_user u ON u.id = a.requested_by
WHERE a.case_id = :case_id AND a.signed_id IS NULL;

-- name: close_care_plan_amendment!
-- The version that replaces the amended one is signed.
UPDATE care_plan_amendment SET signed_id = :signed_id WHERE case_id = :case_id AND signed_id IS NULL;
