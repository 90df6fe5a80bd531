-- name: get_letter_sources^
-- What a referrer letter is written from: a care plan version with its signer, the case's referrer
-- and presenter, and the letter already written for it, if any.
SELECT cp.id, cp.case_id, cp.version, cp.status, cp.consensus, cp.content, cp.generated_at, cp.signed_by,
       signer.full_name AS signed_by_name, cp.signed_at, cp.content_hash,
       c.referrer, presenter.full_name AS presenter_name,
       (SELECT l.id FROM referrer_letter l WHERE l.care_plan_id = cp.id) AS letter_id
FROM care_plan cp
JOIN patient_case c ON c.id = cp.case_id
JOIN app_user presenter ON presenter.id = c.presenter_id
LEFT JOIN app_user signer ON signer.id = cp.signed_by
WHERE cp.id = :care_plan_id;

-- name: insert_referrer_letter$
-- Keep the letter of a signed version, once; returns its id (NULL when another run wrote it first).
INSERT INTO referrer_letter (
    care_plan_id, case_id, version, recipient_name, recipient_organisation, recipient_email, pdf)
VALUES (:care_plan_id, :case_id, :version, :recipient_name, :recipient_organisation, :recipient_email, :pdf)
ON CONFLICT (care_plan_id) DO NOTHING
RETURNING id;

-- name: get_letter_of_care_plan$
-- The id of the letter written for a care plan version.
SELECT id FROM referrer_letter WHERE care_plan_id = :care_plan_id;

-- name: lock_letter_for_sending^
-- Lock a letter while it is emailed, so that two runs cannot both send it.
SELECT id, case_id, version, recipient_name, recipient_email, sent_at
FROM referrer_letter
WHERE id = :id
FOR UPDATE;

-- name: mark_letter_sent!
-- Record, once, when the letter went out.
UPDATE referrer_letter SET sent_at = now() WHERE id = :id AND sent_at IS NULL;

-- name: list_case_letters
-- A case's letters to its referrer, one per signed version, oldest first (without their PDF).
SELECT id, case_id, version, recipient_name, recipient_organisation, recipient_email, created_at, sent_at
FROM referrer_letter
WHERE case_id = :case_id
ORDER BY version;

-- name: get_case_letter^
-- One letter of a case, with its PDF.
SELECT id, version, pdf FROM referrer_letter WHERE case_id = :case_id AND version = :version;
