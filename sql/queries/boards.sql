-- name: insert_board<!
-- Create a board.
INSERT INTO board (name, disease_sites, required_disciplines)
VALUES (:name, :disease_sites, :required_disciplines)
RETURNING id, name, disease_sites, required_disciplines, created_at;

-- name: list_boards
-- Every board by name.
SELECT id, name, disease_sites, required_disciplines, created_at
FROM board
ORDER BY name, id;

-- name: get_board^
-- One board.
SELECT id, name, disease_sites, required_disciplines, created_at
FROM board
WHERE id = :id;
