-- Segments: the columns a snapshot filters on, packed per key range of targets in id order (see the
-- PostgreSQL migration). Each covers [lo, hi), hi '' = no upper bound.
CREATE TABLE target_segments (
    lo        TEXT PRIMARY KEY,
    hi        TEXT NOT NULL,
    rows      INTEGER NOT NULL,
    data      BLOB NOT NULL,
    built_at  INTEGER NOT NULL
);

-- Key ranges written since the segments were built (inclusive bounds).
CREATE TABLE target_segments_stale (
    id  INTEGER PRIMARY KEY AUTOINCREMENT,
    lo  TEXT NOT NULL,
    hi  TEXT NOT NULL
);
INSERT INTO target_segments_stale (lo, hi)
    SELECT lo, hi FROM (SELECT min(id) AS lo, max(id) AS hi FROM targets) s WHERE lo IS NOT NULL;
