-- Results of each task not yet published or withheld. Its row is changed in the transaction that creates a
-- result or makes one final, so two results becoming final at once are counted one after the other and the one
-- that brings it to zero says so (`publication.task.completed`).
CREATE TABLE task_progress (
    task_id   TEXT PRIMARY KEY,
    pending   BIGINT NOT NULL,
    results   BIGINT NOT NULL
);
