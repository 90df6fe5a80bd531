-- name: insert_board<!
-- Create a board.
INSERT INTO board (name, disease_sites, required_disciplines, time_zone, minutes_per_case, agenda_lock_hours)
VALUES (:name, :disease_sites, :required_disciplines, :time_zone, :minutes_per_case, :agenda_lock_hours)
RETURNING id;

-- name: list_boards
-- Every board by name, with its scheduling settings and checklist.
SELECT b.id, b.name, b.disease_sites, b.required_disciplines, b.time_zone, b.minutes_per_case,
       b.agenda_lock_hours, b.created_at,
       coalesce((SELECT jsonb_agg(jsonb_build_object('item', c.item, 'max_age_days', c.max_age_days)
                                  ORDER BY c.position)
                 FROM board_checklist_item c WHERE c.board_id = b.id), '[]') AS checklist
FROM board b
ORDER BY b.name, b.id;

-- name: get_board^
-- One board.
SELECT id, name, disease_sites, required_disciplines, created_at
FROM board
WHERE id = :id;

-- name: get_board_settings^
-- One board with its scheduling settings and checklist.
SELECT b.id, b.name, b.disease_sites, b.required_disciplines, b.time_zone, b.minutes_per_case,
       b.agenda_lock_hours, b.created_at,
       coalesce((SELECT jsonb_agg(jsonb_build_object('item', c.item, 'max_age_days', c.max_age_days)
                                  ORDER BY c.position)
                 FROM board_checklist_item c WHERE c.board_id = b.id), '[]') AS checklist
FROM board b
WHERE b.id = :id;

-- name: lock_board^
-- Lock a board before changing its settings.
SELECT id FROM board WHERE id = :id FOR UPDATE;

-- name: update_board_settings!
-- Change a board's scheduling settings (NULL keeps a value).
UPDATE board
SET time_zone = coalesce(:time_zone, time_zone),
    minutes_per_case = coalesce(:minutes_per_case, minutes_per_case),
    agenda_lock_hours = coalesce(:agenda_lock_hours, agenda_lock_hours)
WHERE id = :id;

-- name: update_open_agenda_lock_hours!
-- A new lock lead time applies to the board's scheduled meetings whose agenda is still open.
UPDATE meeting
SET agenda_lock_hours = :agenda_lock_hours, updated_at = now()
WHERE board_id = :board_id AND status = 'scheduled' AND agenda_locked_at IS NULL
  AND agenda_lock_hours <> :agenda_lock_hours;

-- name: delete_checklist!
-- Clear a board's checklist before replacing it.
DELETE FROM board_checklist_item WHERE board_id = :board_id;

-- name: insert_checklist!
-- A board's checklist in display order, in one statement.
INSERT INTO board_checklist_item (board_id, item, max_age_days, position)
SELECT :board_id, item, max_age_days, position - 1
FROM unnest(:items::text[], :max_age_days::integer[]) WITH ORDINALITY AS c (item, max_age_days, position);
