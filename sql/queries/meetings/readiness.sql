-- name: list_agenda
-- The cases on a meeting in agenda order (the frozen order first), with what readiness needs and
-- the clinical data the agenda shows beside each case.
SELECT c.id, c.status, c.urgency, c.disease_site, c.presenter_id, u.full_name AS presenter_name,
       p.given_name || ' ' || p.family_name AS patient_name,
       c.stage IS NOT NULL AS has_stage, c.histology IS NOT NULL AS has_histology,
       c.ecog IS NOT NULL AS has_ecog, jsonb_array_length(c.biomarkers) > 0 AS has_biomarkers,
       d.pathology_report_on, d.imaging_on, d.undated_pathology_report, d.undated_imaging,
       a.position AS frozen_position,
       c.diagnosis, c.histology, c.stage, c.ecog, c.biomarkers, c.prior_treatments, c.comorbidities,
       c.treatment_started
FROM patient_case c
JOIN patient p ON p.id = c.patient_id
JOIN app_user u ON u.id = c.presenter_id
CROSS JOIN LATERAL case_report_dates(c.id) d
LEFT JOIN agenda_item a ON a.meeting_id = c.meeting_id AND a.case_id = c.id
WHERE c.meeting_id = :meeting_id AND c.status <> 'withdrawn'
ORDER BY a.position NULLS LAST, c.urgency = 'urgent' DESC, c.discuss_by NULLS LAST, c.created_at, c.id;

-- name: list_meeting_checklist
-- The readiness checklist of a meeting's board, in display order.
SELECT c.item, c.max_age_days
FROM meeting m
JOIN board_checklist_item c ON c.board_id = m.board_id
WHERE m.id = :meeting_id
ORDER BY c.position;

-- name: list_site_checklist
-- The checklists of every board covering a disease site, merged: each item once, its strictest age.
SELECT c.item, min(c.max_age_days) AS max_age_days
FROM board b
JOIN board_checklist_item c ON c.board_id = b.id
WHERE :disease_site = ANY (b.disease_sites)
GROUP BY c.item
ORDER BY min(c.position), c.item;

-- name: get_case_readiness_facts^
-- What readiness needs of one case (report dates from what was recorded and what was attached), with
-- its meeting's start and time zone when it has one, and whether the caller may see the case; an
-- allowed read is audited in the same statement.
WITH facts AS (
    SELECT c.id, c.status, c.presenter_id, c.meeting_id, c.disease_site,
           case_visible_to(c.presenter_id, c.meeting_id, :user_id, :sees_all) AS caller_may_view,
           c.stage IS NOT NULL AS has_stage, c.histology IS NOT NULL AS has_histology,
           c.ecog IS NOT NULL AS has_ecog, jsonb_array_length(c.biomarkers) > 0 AS has_biomarkers,
           d.pathology_report_on, d.imaging_on, d.undated_pathology_report, d.undated_imaging,
           m.starts_at AS meeting_starts_at, b.time_zone AS meeting_time_zone
    FROM patient_case c
    CROSS JOIN LATERAL case_report_dates(c.id) d
    LEFT JOIN meeting m ON m.id = c.meeting_id
    LEFT JOIN board b ON b.id = m.board_id
    WHERE c.id = :id
), audit_row AS (
    INSERT INTO audit_event (actor_id, action, subject_type, subject_id, outcome)
    SELECT :user_id, 'read_readiness', 'case', id, 'allowed' FROM facts WHERE caller_may_view
)
SELECT * FROM facts;

-- name: lock_case_for_readiness^
-- Lock a case whose readiness data changes.
SELECT id, status, presenter_id, meeting_id FROM patient_case WHERE id = :id FOR UPDATE;

-- name: complete_case_details!
-- Fill in the stage, histology, ECOG or biomarkers of a case (NULL keeps the recorded value).
UPDATE patient_case
SET stage = coalesce(:stage, stage),
    histology = coalesce(:histology, histology),
    ecog = coalesce(:ecog, ecog),
    biomarkers = coalesce(:biomarkers, biomarkers),
    updated_at = now()
WHERE id = :id;

-- name: upsert_case_readiness!
-- Record the dates of a case's pathology report and latest imaging (the set_ flags say which change).
INSERT INTO case_readiness (case_id, pathology_report_on, imaging_on, updated_by)
VALUES (:case_id, :pathology_report_on, :imaging_on, :updated_by)
ON CONFLICT (case_id) DO UPDATE
SET pathology_report_on = CASE WHEN :set_pathology_report_on THEN EXCLUDED.pathology_report_on
                               ELSE case_readiness.pathology_report_on END,
    imaging_on = CASE WHEN :set_imaging_on THEN EXCLUDED.imaging_on ELSE case_readiness.imaging_on END,
    updated_by = EXCLUDED.updated_by,
    updated_at = now();
