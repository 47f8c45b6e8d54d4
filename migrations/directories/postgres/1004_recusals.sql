-- Recusal requests (回避申请): a target asks that a named inspector not inspect it; the head of the inspector's
-- department accepts or rejects. Accepted requests exclude the inspector from draws for that target.

CREATE TABLE recusals (
    id               TEXT PRIMARY KEY,
    target_id        TEXT NOT NULL,
    inspector_id     TEXT NOT NULL REFERENCES inspectors (id),
    reason           TEXT NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('pending', 'accepted', 'rejected')),
    decision_reason  TEXT NOT NULL DEFAULT '',
    filed_by         TEXT NOT NULL,
    filed_at         BIGINT NOT NULL,
    decided_by       TEXT NOT NULL DEFAULT '',
    decided_at       BIGINT
);
CREATE INDEX recusals_inspector ON recusals (inspector_id, state);
CREATE INDEX recusals_target ON recusals (target_id, state);
