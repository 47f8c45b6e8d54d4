-- Each target's inspections summed up per year, kept beside the history rows in the same transaction, so a draw's
-- exclusions read only the targets some rule may remove instead of grouping a year of history for every draw.
CREATE TABLE target_year_visits (
    target_id  TEXT NOT NULL,
    -- YYYY.
    year       TEXT NOT NULL,
    -- Tasks that inspected the target that year (several departments in one task are one visit).
    tasks      BIGINT NOT NULL,
    PRIMARY KEY (target_id, year)
);
CREATE INDEX target_year_visits_tasks ON target_year_visits (year, tasks);

CREATE TABLE target_department_year (
    target_id        TEXT NOT NULL,
    department_code  TEXT NOT NULL,
    year             TEXT NOT NULL,
    -- That department's parts in that year's visits to the target (its annual cap counts these).
    inspections      BIGINT NOT NULL,
    PRIMARY KEY (target_id, department_code, year)
);
CREATE INDEX target_department_year_count ON target_department_year (year, department_code, inspections);

-- Clean inspections by level and day, for the higher-level rule.
CREATE INDEX target_inspections_clean ON target_inspections (level, visit_date) WHERE problem_found = 0;

INSERT INTO target_year_visits (target_id, year, tasks)
    SELECT target_id, substr(visit_date, 1, 4), COUNT(DISTINCT task_id) FROM target_inspections
    GROUP BY target_id, substr(visit_date, 1, 4);
INSERT INTO target_department_year (target_id, department_code, year, inspections)
    SELECT target_id, department_code, substr(visit_date, 1, 4), COUNT(*) FROM target_inspections
    GROUP BY target_id, department_code, substr(visit_date, 1, 4);
