-- name: insert_notifications
-- Tell each user a care plan version is ready, once per user, kind and version; returns the new ids.
INSERT INTO notification (user_id, kind, case_id, care_plan_id, version)
SELECT user_id, :kind::text, :case_id::uuid, :care_plan_id::uuid, :version::integer
FROM unnest(:user_ids::uuid[]) AS user_id
ON CONFLICT (user_id, kind, care_plan_id) DO NOTHING
RETURNING id;

-- name: get_case_presenter_and_chair^
-- Who hears about a case's care plan: its presenter and its meeting's chair.
SELECT c.presenter_id,
       (SELECT p.user_id FROM meeting_participant p
        WHERE p.meeting_id = c.meeting_id AND p.role = 'chair') AS chair_id
FROM patient_case c
WHERE c.id = :case_id;

-- name: list_notifications
-- A user's notifications, newest first, keyset-paginated.
SELECT id, kind, case_id, care_plan_id, version, created_at, read_at
FROM notification
WHERE user_id = :user_id
  AND (NOT :unread_only OR read_at IS NULL)
  AND (:before_created_at::timestamptz IS NULL
       OR (created_at, id) < (:before_created_at, :before_id::uuid))
ORDER BY created_at DESC, id DESC
LIMIT :limit;

-- name: count_unread_notifications$
-- How many of a user's notifications are unread.
SELECT count(*) FROM notification WHERE user_id = :user_id AND read_at IS NULL;

-- name: mark_notification_read^
-- Mark one of the caller's notifications read (keeps the first read time).
UPDATE notification
SET read_at = coalesce(read_at, now())
WHERE id = :id AND user_id = :user_id
RETURNING id, kind, case_id, care_plan_id, version, created_at, read_at;

-- name: mark_all_notifications_read$
-- Mark every unread notification of the caller read; returns how many.
WITH marked AS (
    UPDATE notification SET read_at = now() WHERE user_id = :user_id AND read_at IS NULL RETURNING 1
)
SELECT count(*) FROM marked;

-- name: lock_notification_for_email^
-- A notification and its recipient's address, locked so two runs of the job cannot both send it.
SELECT n.id, n.kind, n.case_id, n.version, n.emailed_at, u.email, u.full_name, u.is_active
FROM notification n
JOIN app_user u ON u.id = n.user_id
WHERE n.id = :id
FOR UPDATE OF n;

-- name: mark_notification_emailed!
-- The email for a notification was handed to the SMTP server.
UPDATE notification SET emailed_at = now() WHERE id = :id;
