-- 1 while a result's due date was counted through a calendar year whose notice is not loaded yet: such due dates
-- are counted again when the notice is loaded (at start, or on the calendar's reload).
ALTER TABLE results ADD COLUMN due_provisional INTEGER NOT NULL DEFAULT 0;
CREATE INDEX results_due_provisional ON results (due_provisional, id) WHERE due_provisional = 1;
