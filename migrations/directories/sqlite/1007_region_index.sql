-- A district's or a city's snapshot reads only its region (see the PostgreSQL migration of the same number).
CREATE INDEX targets_region ON targets (region_code, id);
