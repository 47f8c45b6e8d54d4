-- Inspectors' open assignments change by appending here (one row per inspector and event), not by updating the
-- inspector's row: a province's teams and concluded visits would otherwise queue on a few hundred hot rows. A
-- background fold adds the changes to `inspectors.workload` and deletes them; a workload is read as the column
-- plus what is not yet folded.
CREATE TABLE workload_changes (
    seq           BIGSERIAL PRIMARY KEY,
    inspector_id  TEXT NOT NULL,
    delta         BIGINT NOT NULL
);
CREATE INDEX workload_changes_inspector ON workload_changes (inspector_id);
