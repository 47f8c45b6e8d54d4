-- 1 while a visit's last day (schedule_by) was counted through a calendar year whose notice is not loaded yet;
-- kept with the document on every write, so that loading the notice counts again only these visits.
ALTER TABLE visits ADD COLUMN schedule_by_provisional INTEGER NOT NULL DEFAULT 0;
CREATE INDEX visits_schedule_by_provisional ON visits (id) WHERE schedule_by_provisional = 1 AND scheduled = 0;
