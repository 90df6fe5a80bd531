-- The board quality report counts the cases a board saw before treatment began: whether a case's
-- treatment had already started when it was submitted (NULL: the presenter did not say).

ALTER TABLE patient_case ADD COLUMN IF NOT EXISTS treatment_started boolean;
