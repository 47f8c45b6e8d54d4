-- A task's visits page by id (ListVisits, the saga's progress); the (task, target) key alone made every page sort
-- or walk the whole table by id.
CREATE INDEX visits_task ON visits (task_id, id);
