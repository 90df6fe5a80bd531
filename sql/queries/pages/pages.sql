-- Read-only views the web pages need beyond the domain services: each user's work on the home
-- page, a case's timeline, and the live agenda. Nothing here changes state.

-- name: list_cases_on_users_open_meetings
-- Cases on the open meetings a user takes part in, with the user's own recommendation if any.
SELECT c.id, c.status, c.urgency, c.disease_site, c.created_at, c.presenter_id,
       p.mrn, p.given_name, p.family_name,
       m.id AS meeting_id, m.starts_at, m.status AS meeting_status, b.name AS board_name,
       mp.role AS participant_role, r.id AS recommendation_id, r.version AS recommendation_version
FROM meeting_participant mp
JOIN open_meeting m ON m.id = mp.meeting_id
JOIN board b ON b.id = m.board_id
JOIN patient_case c ON c.meeting_id = m.id AND c.status <> 'withdrawn'
JOIN patient p ON p.id = c.patient_id
LEFT JOIN recommendation r ON r.case_id = c.id AND r.author_id = mp.user_id
WHERE mp.user_id = :user_id
  AND m.starts_at + make_interval(mins => m.duration_minutes) > now() - :grace::interval
ORDER BY m.starts_at, m.id, c.urgency = 'urgent' DESC, c.discuss_by NULLS LAST, c.created_at, c.id
LIMIT :limit;

-- name: list_users_open_meetings
-- The open meetings a user takes part in, with the user's part and how far their cases have got.
SELECT m.id, m.board_id, b.name AS board_name, m.starts_at, m.duration_minutes, m.location, m.status,
       m.capacity, m.case_count, mp.role AS participant_role,
       progress.open_cases, progress.discussed_cases, progress.finalized_cases
FROM meeting_participant mp
JOIN open_meeting m ON m.id = mp.meeting_id
JOIN board b ON b.id = m.board_id
CROSS JOIN LATERAL (
    SELECT count(*) FILTER (WHERE c.status = 'scheduled') AS open_cases,
           count(*) FILTER (WHERE c.status = 'discussed') AS discussed_cases,
           count(*) FILTER (WHERE c.status = 'finalized') AS finalized_cases
    FROM patient_case c
    WHERE c.meeting_id = m.id
) progress
WHERE mp.user_id = :user_id
  AND m.starts_at + make_interval(mins => m.duration_minutes) > now() - :grace::interval
ORDER BY m.starts_at, m.id
LIMIT :limit;

-- name: list_drafts_awaiting_chair
-- Discussed cases on meetings a user chairs whose latest care plan version is a draft.
SELECT c.id AS case_id, p.given_name, p.family_name, p.mrn, c.disease_site,
       m.id AS meeting_id, m.starts_at, b.name AS board_name, cp.version, cp.generated_at
FROM meeting_participant mp
JOIN meeting m ON m.id = mp.meeting_id
JOIN board b ON b.id = m.board_id
JOIN patient_case c ON c.meeting_id = m.id AND c.status = 'discussed'
JOIN patient p ON p.id = c.patient_id
JOIN latest_care_plan cp ON cp.case_id = c.id AND cp.status = 'draft'
WHERE mp.user_id = :user_id AND mp.role = 'chair'
ORDER BY cp.generated_at, c.id
LIMIT :limit;

-- name: list_open_meetings_with_disciplines
-- Meetings not yet over, with their board's requirements and their participants' disciplines.
SELECT m.id, m.board_id, b.name AS board_name, m.starts_at, m.duration_minutes, m.location, m.status,
       m.capacity, m.case_count, m.submission_deadline, b.required_disciplines,
       people.disciplines, people.participant_count, people.has_chair
FROM open_meeting m
JOIN board b ON b.id = m.board_id
CROSS JOIN LATERAL (
    SELECT coalesce(array_agg(u.discipline) FILTER (WHERE u.discipline IS NOT NULL), '{}') AS disciplines,
           count(mp.user_id) AS participant_count,
           bool_or(mp.role = 'chair') IS TRUE AS has_chair
    FROM meeting_participant mp
    JOIN app_user u ON u.id = mp.user_id
    WHERE mp.meeting_id = m.id
) people
WHERE m.starts_at + make_interval(mins => m.duration_minutes) > now() - :grace::interval
ORDER BY m.starts_at, m.id
LIMIT :limit;

-- name: list_meeting_briefs
-- Date, place and board of some meetings (what any signed-in user may know of a meeting).
SELECT m.id, m.board_id, b.name AS board_name, b.required_disciplines, m.starts_at, m.duration_minutes,
       m.location, m.status
FROM meeting m
JOIN board b ON b.id = m.board_id
WHERE m.id = ANY (:ids::uuid[]);

-- name: list_case_timeline_events
-- What happened to a case, oldest first: audited changes to it, its recommendations and care plans,
-- each care plan version built by the workers, and each decision of the board (a deferral's reason too).
-- Nothing happens to a case before it is submitted (:since), so only the audit trail's months from
-- then on are read, not every month of a decade.
SELECT e.occurred_at, e.action, e.subject_type, u.full_name AS actor_name, u.discipline AS actor_discipline,
       NULL::integer AS version, NULL::text AS detail
FROM audit_event e
LEFT JOIN app_user u ON u.id = e.actor_id
WHERE e.occurred_at >= :since
  AND e.outcome = 'allowed'
  AND e.action NOT LIKE 'read%'
  AND ((e.subject_type = 'case' AND e.subject_id = :case_id)
       OR (e.subject_type = 'recommendation'
           AND e.subject_id IN (SELECT id FROM recommendation WHERE case_id = :case_id))
       OR (e.subject_type = 'care_plan'
           AND e.subject_id IN (SELECT id FROM care_plan WHERE case_id = :case_id)))
UNION ALL
SELECT generated_at, 'build', 'care_plan', NULL, NULL, version, NULL
FROM care_plan
WHERE case_id = :case_id
UNION ALL
SELECT d.decided_at, d.outcome, 'decision', u.full_name, u.discipline, d.revision,
       CASE WHEN d.outcome = 'defer' THEN d.summary END
FROM board_decision d
JOIN app_user u ON u.id = d.decided_by
WHERE d.case_id = :case_id
ORDER BY 1, 2;

-- name: get_latest_care_plan_brief^
-- Version and status of a case's latest care plan, without its content.
SELECT version, status, generated_at, signed_at
FROM latest_care_plan
WHERE case_id = :case_id;

-- name: list_agenda_recommendation_progress
-- For each case on a meeting: the disciplines that recommended, the user's own recommendation,
-- and the status of the latest care plan version.
SELECT c.id AS case_id,
       coalesce(array_agg(DISTINCT r.discipline) FILTER (WHERE r.id IS NOT NULL), '{}') AS recommended,
       max(r.id::text) FILTER (WHERE r.author_id = :user_id) AS own_recommendation_id,
       (SELECT cp.status FROM latest_care_plan cp WHERE cp.case_id = c.id) AS care_plan_status
FROM patient_case c
LEFT JOIN recommendation r ON r.case_id = c.id
WHERE c.meeting_id = :meeting_id AND c.status <> 'withdrawn'
GROUP BY c.id;

-- name: get_live_agenda_fingerprint$
-- A digest of everything the live agenda shows; it changes whenever the agenda should be redrawn.
SELECT md5(concat_ws('|', m.status, m.updated_at, m.case_count,
    (SELECT string_agg(c.id::text || c.status || c.updated_at::text, ',' ORDER BY c.id)
     FROM patient_case c WHERE c.meeting_id = m.id),
    (SELECT string_agg(r.id::text || r.version::text, ',' ORDER BY r.id)
     FROM recommendation r JOIN patient_case c ON c.id = r.case_id WHERE c.meeting_id = m.id),
    (SELECT string_agg(cp.id::text || cp.status, ',' ORDER BY cp.id)
     FROM care_plan cp JOIN patient_case c ON c.id = cp.case_id WHERE c.meeting_id = m.id),
    (SELECT string_agg(mp.user_id::text || mp.role, ',' ORDER BY mp.user_id)
     FROM meeting_participant mp WHERE mp.meeting_id = m.id),
    (SELECT string_agg(ma.user_id::text || ma.status, ',' ORDER BY ma.user_id)
     FROM meeting_attendance ma WHERE ma.meeting_id = m.id),
    (SELECT count(*) FROM board_decision d WHERE d.meeting_id = m.id)))
FROM meeting m
WHERE m.id = :meeting_id;

-- name: get_case_live_fingerprint$
-- A digest of what the case page shows live (status, meeting, recommendations, decisions, care plan);
-- it changes whenever that part of the page should be redrawn.
SELECT md5(concat_ws('|', c.status, c.updated_at, c.meeting_id, m.status,
    (SELECT string_agg(r.id::text || r.version::text, ',' ORDER BY r.id)
     FROM recommendation r WHERE r.case_id = c.id),
    (SELECT string_agg(cp.id::text || cp.status, ',' ORDER BY cp.id)
     FROM care_plan cp WHERE cp.case_id = c.id),
    (SELECT count(*) FROM board_decision d WHERE d.case_id = c.id)))
FROM patient_case c
LEFT JOIN meeting m ON m.id = c.meeting_id
WHERE c.id = :case_id;

-- name: count_deferred_at_meeting$
-- How many cases the board deferred at a meeting (they have left its agenda).
SELECT count(DISTINCT case_id) FROM board_decision d
WHERE d.meeting_id = :meeting_id AND d.outcome = 'defer';
