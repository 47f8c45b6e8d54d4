-- Pins: who keeps a snapshot readable (a draw that was made from it). A pinned snapshot is never purged.
CREATE TABLE snapshot_pins (
    snapshot_id  TEXT NOT NULL REFERENCES snapshots (id),
    holder       TEXT NOT NULL,
    pinned_by    TEXT NOT NULL,
    pinned_at    BIGINT NOT NULL,
    PRIMARY KEY (snapshot_id, holder)
);
