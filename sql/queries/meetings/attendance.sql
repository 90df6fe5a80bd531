-- name: list_attendance
-- Every participant of a meeting with their recorded attendance, if any; chair first.
SELECT p.user_id, u.full_name, u.discipline, p.role, a.status, a.recorded_at
FROM meeting_participant p
JOIN app_user u ON u.id = p.user_id
LEFT JOIN meeting_attendance a ON a.meeting_id = p.meeting_id AND a.user_id = p.user_id
WHERE p.meeting_id = :meeting_id
ORDER BY p.role = 'chair' DESC, u.full_name, u.id;

-- name: delete_attendance!
-- Clear a meeting's attendance before recording it again.
DELETE FROM meeting_attendance WHERE meeting_id = :meeting_id;

-- name: insert_attendance!
-- Record attendance in one statement (the foreign key admits participants only).
INSERT INTO meeting_attendance (meeting_id, user_id, status, recorded_by)
SELECT :meeting_id, user_id, status, :recorded_by
FROM unnest(:user_ids::uuid[], :statuses::text[]) AS a (user_id, status);

-- name: start_meeting!
-- The meeting begins: attendance and quorum by attendance from now on.
UPDATE meeting SET status = 'in_progress', started_at = now(), updated_at = now()
WHERE id = :id AND status = 'scheduled';

-- name: close_meeting!
-- The meeting is over.
UPDATE meeting SET status = 'closed', closed_at = now(), updated_at = now()
WHERE id = :id AND status = 'in_progress';
