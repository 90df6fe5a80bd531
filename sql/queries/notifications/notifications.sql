-- name: insert_notifications
-- Tell each user a care plan version is ready, once per user, kind and version; returns the new ids.
INSERT INTO notification (user_id, kind, care_plan_id)
SELECT user_id, :kind::text, :care_plan_id::uuid
FROM unnest(:user_ids::uuid[]) AS user_id
ON CONFLICT (user_id, kind, care_plan_id) DO NOTHING
RETURNING id;

-- name: insert_meeting_notices
-- Tell people something about a meeting (and, but for the agenda, one of its cases): once per person,
-- kind, meeting and case; returns the new ids.
INSERT INTO notification (user_id, kind, case_id, meeting_id)
SELECT user_id, :kind::text, case_id, :meeting_id::uuid
FROM unnest(:user_ids::uuid[], :case_ids::uuid[]) AS n (user_id, case_id)
ON CONFLICT (user_id, kind, meeting_id, case_id) WHERE care_plan_id IS NULL DO NOTHING
RETURNING id;

-- name: get_case_presenter_and_chair^
-- Who hears about a case's care plan: its presenter and its meeting's chair.
SELECT c.presenter_id,
       (SELECT p.user_id FROM meeting_participant p
        WHERE p.meeting_id = c.meeting_id AND p.role = 'chair') AS chair_id
FROM patient_case c
WHERE c.id = :case_id;

-- name: list_notifications
-- A user's notifications, newest first, keyed by time: with the care plan version or the meeting's
-- day (in its board's time zone) that their titles name.
SELECT n.id, n.kind, coalesce(n.case_id, cp.case_id) AS case_id, n.care_plan_id, cp.version, n.meeting_id,
       (m.starts_at AT TIME ZONE b.time_zone)::date AS meeting_on, n.created_at, n.read_at
FROM notification n
LEFT JOIN care_plan cp ON cp.id = n.care_plan_id
LEFT JOIN meeting m ON m.id = n.meeting_id
LEFT JOIN board b ON b.id = m.board_id
WHERE n.user_id = :user_id
  AND (NOT :unread_only OR n.read_at IS NULL)
  AND (:before_created_at::timestamptz IS NULL
       OR (n.created_at, n.id) < (:before_created_at, :before_id::uuid))
ORDER BY n.created_at DESC, n.id DESC
LIMIT :limit;

-- name: count_unread_notifications$
-- How many of a user's notifications are unread.
SELECT count(*) FROM notification WHERE user_id = :user_id AND read_at IS NULL;

-- name: mark_notification_read^
-- Mark one of the caller's notifications read (keeps the first read time).
WITH marked AS (
    UPDATE notification
    SET read_at = coalesce(read_at, now())
    WHERE id = :id AND user_id = :user_id
    RETURNING id, kind, case_id, care_plan_id, meeting_id, created_at, read_at
)
SELECT n.id, n.kind, coalesce(n.case_id, cp.case_id) AS case_id, n.care_plan_id, cp.version, n.meeting_id,
       (m.starts_at AT TIME ZONE b.time_zone)::date AS meeting_on, n.created_at, n.read_at
FROM marked n
LEFT JOIN care_plan cp ON cp.id = n.care_plan_id
LEFT JOIN meeting m ON m.id = n.meeting_id
LEFT JOIN board b ON b.id = m.board_id;

-- name: mark_all_notifications_read$
-- Mark every unread notification of the caller read; returns how many.
WITH marked AS (
    UPDATE notification SET read_at = now() WHERE user_id = :user_id AND read_at IS NULL RETURNING 1
)
SELECT count(*) FROM marked;

-- name: lock_notification_for_email^
-- A notification and its recipient's address, locked so two runs of the job cannot both send it.
SELECT n.id, n.kind, coalesce(n.case_id, cp.case_id) AS case_id, cp.version, n.meeting_id,
       (m.starts_at AT TIME ZONE b.time_zone)::date AS meeting_on, n.emailed_at, u.email, u.full_name,
       u.is_active
FROM notification n
LEFT JOIN care_plan cp ON cp.id = n.care_plan_id
LEFT JOIN meeting m ON m.id = n.meeting_id
LEFT JOIN board b ON b.id = m.board_id
JOIN app_user u ON u.id = n.user_id
WHERE n.id = :id
FOR UPDATE OF n;

-- name: mark_notification_emailed!
-- The email for a notification was handed to the SMTP server.
UPDATE notification SET emailed_at = now() WHERE id = :id;
