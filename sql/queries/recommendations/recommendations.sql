-- name: insert_recommendation<!
-- A reviewer's first recommendation on a case.
INSERT INTO recommendation (case_id, author_id, discipline, intent, modalities, summary, rationale, guideline, trial)
VALUES (:case_id, :author_id, :discipline, :intent, :modalities, :summary, :rationale, :guideline, :trial)
RETURNING id;

-- name: update_recommendation$
-- Replace a recommendation's content if the caller saw the current version.
UPDATE recommendation
SET intent = :intent, modalities = :modalities, summary = :summary, rationale = :rationale,
    guideline = :guideline, trial = :trial, version = version + 1, updated_at = now()
WHERE id = :id AND version = :version
RETURNING id;

-- name: get_recommendation^
-- One recommendation with its author's name.
SELECT r.id, r.case_id, r.author_id, u.full_name AS author_name, r.discipline, r.intent, r.modalities,
       r.summary, r.rationale, r.guideline, r.trial, r.version, r.created_at, r.updated_at
FROM recommendation r
JOIN app_user u ON u.id = r.author_id
WHERE r.id = :id;

-- name: list_recommendations
-- A case's recommendations, oldest first.
SELECT r.id, r.case_id, r.author_id, u.full_name AS author_name, r.discipline, r.intent, r.modalities,
       r.summary, r.rationale, r.guideline, r.trial, r.version, r.created_at, r.updated_at
FROM recommendation r
JOIN app_user u ON u.id = r.author_id
WHERE r.case_id = :case_id
ORDER BY r.created_at, r.id;
