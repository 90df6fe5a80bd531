-- The meeting pack's renderings (tumorboard/meetings/pack.py).

-- name: get_meeting_pack$
-- A rendered meeting pack, by the fingerprint of what it shows.
SELECT pdf FROM meeting_pack WHERE meeting_id = :meeting_id AND fingerprint = :fingerprint;

-- name: insert_meeting_pack!
-- Store a rendered meeting pack once.
INSERT INTO meeting_pack (meeting_id, fingerprint, pdf)
VALUES (:meeting_id, :fingerprint, :pdf)
ON CONFLICT (meeting_id, fingerprint) DO NOTHING;

-- name: delete_older_meeting_packs!
-- Drop the renderings of a meeting's pack other than the one just stored.
DELETE FROM meeting_pack WHERE meeting_id = :meeting_id AND fingerprint <> :fingerprint;
