-- The draw's saga commands become durable jobs of the platform (jobs, migration 0005): those not yet carried out
-- move there unchanged, each task a lane.
INSERT INTO jobs (id, kind, lane, payload, attempts, next_at, last_error, created_at)
SELECT id, kind, task_id, payload, attempts, next_at, last_error, created_at FROM draw_jobs;
DROP TABLE draw_jobs;
