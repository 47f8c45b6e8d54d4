-- Inspection history per target, kept from `inspection.visit.concluded`: one row per target, task and department.
-- The draw's exclusions read it (twice a year, a higher level's recent clean inspection, annual caps).
CREATE TABLE target_inspections (
    target_id        TEXT NOT NULL,
    task_id          TEXT NOT NULL,
    department_code  TEXT NOT NULL,
    -- The department's level when it inspected: province, city or county.
    level            TEXT NOT NULL,
    -- YYYY-MM-DD, so text order is date order.
    visit_date       TEXT NOT NULL,
    problem_found    INTEGER NOT NULL,
    PRIMARY KEY (target_id, task_id, department_code)
);
CREATE INDEX target_inspections_date ON target_inspections (visit_date);

-- Each id's risk level, one byte per id of the chunk (RiskLevel numbers), so a draw can stratify.
ALTER TABLE snapshot_chunks ADD COLUMN risk_levels BLOB;
-- Targets removed by the exclusions, per rule, as JSON.
ALTER TABLE snapshots ADD COLUMN excluded TEXT NOT NULL DEFAULT '{}';
