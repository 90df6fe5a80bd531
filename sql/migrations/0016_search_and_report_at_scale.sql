-- Case search and the quality report at a decade of history: both now cost what they find, not how
-- many years lie behind it. See docs/benchmarks.md (the scale benchmark) for the plans and figures.

-- A search: every word but the last is a whole word of the case, the last may be the beginning of
-- one ("ada lov" finds Ada Lovelace, "ad lovelace" does not); NULL, which matches nothing, when the
-- text has no word at all. A whole word is one entry of the word index, which GIN skips through
-- from the rarest word's cases, where a prefix reads every case of every word it begins (a common
-- given name as a prefix: one case in a hundred). Each word is quoted, so nothing in it is syntax.
CREATE OR REPLACE FUNCTION case_search_query(text_searched text) RETURNS tsquery
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT to_tsquery('simple', string_agg(
               quote_literal(w.words[i]) || CASE WHEN i = cardinality(w.words) THEN ':*' ELSE '' END,
               ' & ' ORDER BY i))
    FROM (SELECT string_to_array(nullif(search_words(text_searched), ''), ' ') AS words) AS w,
         generate_subscripts(w.words, 1) AS i
$$;

-- The board a decision was taken by, from its meeting (a meeting never changes board, a recorded
-- decision never changes), so that the quality report finds a period's decisions of one board by
-- time through one index, instead of visiting every meeting the board ever held.
-- (Filled before the foreign key is added, which then checks every row in one join, not row by row.)
ALTER TABLE board_decision ADD COLUMN board_id uuid;

ALTER TABLE board_decision DISABLE TRIGGER board_decision_is_history;
UPDATE board_decision d SET board_id = m.board_id FROM meeting m WHERE m.id = d.meeting_id;
ALTER TABLE board_decision ENABLE TRIGGER board_decision_is_history;

ALTER TABLE board_decision
    ALTER COLUMN board_id SET NOT NULL,
    ADD CONSTRAINT board_decision_board_id_fkey FOREIGN KEY (board_id) REFERENCES board (id);

CREATE FUNCTION board_decision_board() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.board_id := (SELECT board_id FROM meeting WHERE id = NEW.meeting_id);
    RETURN NEW;
END;
$$;

CREATE TRIGGER board_decision_board
BEFORE INSERT ON board_decision
FOR EACH ROW EXECUTE FUNCTION board_decision_board();

-- A board's first decisions on each case and meeting, by time: the quality report's presentations.
CREATE INDEX board_decision_board_opening_idx ON board_decision (board_id, decided_at) WHERE revision = 1;
DROP INDEX board_decision_opening_idx;

-- A decision's corrections at its meeting, by revision: few (a chair corrects a record now and then),
-- so the report finds that a decision was never corrected without reading a page of the big index.
CREATE INDEX board_decision_correction_idx ON board_decision (case_id, meeting_id, revision) WHERE revision > 1;
