-- Segments: the columns a snapshot filters on (kind, region, industry, status, risk, departments), packed per
-- key range of about 64,000 targets in id order, so a province-wide snapshot reads some 200 MB of packed rows
-- instead of walking the primary key of ten million targets. They tile the key space: each covers [lo, hi)
-- (hi '' = no upper bound). Every write to targets records the key range it touched in
-- target_segments_stale, in its own transaction; a snapshot first rebuilds the segments those ranges overlap.
CREATE TABLE target_segments (
    lo        TEXT COLLATE "C" PRIMARY KEY,
    hi        TEXT COLLATE "C" NOT NULL,
    rows      BIGINT NOT NULL,
    data      BYTEA NOT NULL,
    built_at  BIGINT NOT NULL
);
-- Packed rows are read whole and compress poorly (front-coded ids): stored out of line as they are.
ALTER TABLE target_segments ALTER COLUMN data SET STORAGE EXTERNAL;

-- Key ranges written since the segments were built (inclusive bounds).
CREATE TABLE target_segments_stale (
    id  BIGSERIAL PRIMARY KEY,
    lo  TEXT COLLATE "C" NOT NULL,
    hi  TEXT COLLATE "C" NOT NULL
);
-- A directory that existed before segments: everything is stale once.
INSERT INTO target_segments_stale (lo, hi)
    SELECT lo, hi FROM (SELECT min(id) AS lo, max(id) AS hi FROM targets) s WHERE lo IS NOT NULL;
