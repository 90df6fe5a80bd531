-- The case a running meeting has on screen (tumorboard/meetings/presentation.py).

-- name: set_current_case!
-- Put a case on a running meeting's screen (or clear it); its time on screen starts now.
UPDATE meeting
SET current_case_id = :case_id,
    current_case_since = CASE WHEN :case_id::uuid IS NULL THEN NULL ELSE now() END,
    updated_at = now()
WHERE id = :id AND status = 'in_progress';

-- name: get_current_case$
-- The case a meeting has on its screen, if any.
SELECT current_case_id FROM meeting WHERE id = :id;
