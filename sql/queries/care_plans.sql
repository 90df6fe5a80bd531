-- name: get_latest_care_plan^
-- The newest version of a case's care plan, with its signer's name.
SELECT cp.id, cp.case_id, cp.version, cp.status, cp.consensus, cp.content, cp.source_fingerprint,
       cp.generated_at, cp.signed_by, u.full_name AS signed_by_name, cp.signed_at, cp.content_hash
FROM care_plan cp
LEFT JOIN app_user u ON u.id = cp.signed_by
WHERE cp.case_id = :case_id
ORDER BY cp.version DESC
LIMIT 1;

-- name: get_care_plan^
-- One care plan version by id, with its signer's name.
SELECT cp.id, cp.case_id, cp.version, cp.status, cp.consensus, cp.content, cp.source_fingerprint,
       cp.generated_at, cp.signed_by, u.full_name AS signed_by_name, cp.signed_at, cp.content_hash
FROM care_plan cp
LEFT JOIN app_user u ON u.id = cp.signed_by
WHERE cp.id = :id;

-- name: insert_care_plan$
-- Write a new version; UNIQUE (case_id, version) refuses a duplicate.
INSERT INTO care_plan (case_id, version, consensus, content, source_fingerprint)
VALUES (:case_id, :version, :consensus, :content, :source_fingerprint)
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
