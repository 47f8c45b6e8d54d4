-- A district's or a city's snapshot reads only its region: a covering index by region code (prefix LIKE through
-- text_pattern_ops) makes it an index-only scan of that region plus a sort of its ids, instead of a pass over
-- the whole directory. Measured on 10,000,000 targets: a district of 90,000 in 54 ms instead of 712 ms.
CREATE INDEX targets_region ON targets (region_code text_pattern_ops, id)
    INCLUDE (kind, industry_code, status, risk, departments);

-- Snapshot chunks are written once and read whole: stored out of line without compression, since pglz cost
-- more time than the space it saved on sorted ids.
ALTER TABLE snapshot_chunks
    ALTER COLUMN ids SET STORAGE EXTERNAL,
    ALTER COLUMN risk_levels SET STORAGE EXTERNAL;
