-- A page watching a task asks once a second when its visits and transfers last changed: one index lookup each.
CREATE INDEX visits_task_changed ON visits (task_id, updated_at);
CREATE INDEX transfers_task_changed ON transfers (task_id, updated_at);
