-- The board quality report: whether a case's treatment had already started when it was submitted
-- (NULL: the presenter did not say), so the report can count the cases a board saw before treatment
-- began, and an index for the report's selection of a board's decisions by the day they were recorded.

ALTER TABLE patient_case ADD COLUMN IF NOT EXISTS treatment_started boolean;

-- A case's presentation at a meeting is its first decision there (revision 1); the report selects
-- those of a board's meetings by when they were recorded.
CREATE INDEX board_decision_presented_idx ON board_decision (meeting_id, decided_at) WHERE revision = 1;
