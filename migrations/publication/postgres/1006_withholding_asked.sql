-- Results whose withholding waits on the head (a clerk asked, the head has not decided): what 工作台 lists for a
-- head, one index range of few rows instead of a filter over every result of the department.
ALTER TABLE results ADD COLUMN asked INTEGER NOT NULL DEFAULT 0;
-- The document names its pending request as the key "withholding" (absent when there is none).
UPDATE results SET asked = 1 WHERE doc LIKE '%"withholding":{%';
CREATE INDEX results_asked ON results (department, id) WHERE asked = 1;
