-- name: lock_case_for_attachment^
-- Lock a case before attaching a document to it (uploads to one case queue here), with who may
-- attach, its state and how many bytes its attachments already hold.
SELECT c.id, c.status, c.presenter_id, c.meeting_id,
       (SELECT coalesce(sum(a.size), 0) FROM case_attachment a WHERE a.case_id = c.id)::bigint AS attached_bytes
FROM patient_case c
WHERE c.id = :case_id
FOR UPDATE OF c;

-- name: insert_attachment^
-- Keep an uploaded document with its case.
INSERT INTO case_attachment (case_id, kind, filename, media_type, size, sha256, document_date, content, uploaded_by)
VALUES (:case_id, :kind, :filename, :media_type, :size, :sha256, :document_date, :content, :uploaded_by)
RETURNING id, uploaded_at;

-- name: list_case_attachments
-- A case's documents without their content, newest document first (undated ones last), for a caller
-- allowed to see the case (case_visible_to); the read is audited in the same statement. No row at all
-- means no such case; a row with caller_may_view false, a refusal; a row without id, no documents.
WITH found AS (
    SELECT c.id, case_visible_to(c.presenter_id, c.meeting_id, :user_id, :sees_all) AS caller_may_view
    FROM patient_case c
    WHERE c.id = :case_id
), audit_row AS (
    INSERT INTO audit_event (actor_id, action, subject_type, subject_id, outcome)
    SELECT :user_id, 'read_attachments', 'case', id, 'allowed' FROM found WHERE caller_may_view
)
SELECT f.caller_may_view, a.id, a.case_id, a.kind, a.filename, a.media_type, a.size,
       encode(a.sha256, 'hex') AS sha256, a.document_date, a.uploaded_by, u.full_name AS uploaded_by_name,
       a.uploaded_at
FROM found f
LEFT JOIN case_attachment a ON a.case_id = f.id AND f.caller_may_view
LEFT JOIN app_user u ON u.id = a.uploaded_by
ORDER BY a.document_date DESC NULLS LAST, a.uploaded_at DESC, a.id;

-- name: get_attachment_for_caller^
-- One document with its content and whether the caller may see its case.
SELECT a.id, a.case_id, a.kind, a.filename, a.media_type, a.size, encode(a.sha256, 'hex') AS sha256,
       a.document_date, a.uploaded_by, u.full_name AS uploaded_by_name, a.uploaded_at, a.content,
       case_visible_to(c.presenter_id, c.meeting_id, :user_id, :sees_all) AS caller_may_view
FROM case_attachment a
JOIN patient_case c ON c.id = a.case_id
JOIN app_user u ON u.id = a.uploaded_by
WHERE a.id = :id;
