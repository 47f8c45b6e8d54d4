-- A transfer is read by the department that sent it as well as by its receiver: the sender is a column, so a page
-- of one department's transfers is one index range.
ALTER TABLE transfers ADD COLUMN from_department TEXT NOT NULL DEFAULT '';
UPDATE transfers SET from_department = COALESCE(json_extract(doc, '$.from'), '');
CREATE INDEX transfers_sender ON transfers (from_department, state, id);
