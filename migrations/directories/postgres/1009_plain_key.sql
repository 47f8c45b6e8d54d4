-- Wide snapshots read the segments and narrow ones the region index, so the primary key no longer carries the
-- filter columns: a key of ids alone is a third of the size, and every import writes it.
ALTER TABLE targets DROP CONSTRAINT targets_pkey;
ALTER TABLE targets ADD PRIMARY KEY (id);
