-- A department's results in one state, in id order: what 工作台 asks for (results to enter, to review), a few
-- among a year's published ones. See docs/adr/0002-results-by-state.md.
CREATE INDEX results_department_state ON results (department, state, id);
