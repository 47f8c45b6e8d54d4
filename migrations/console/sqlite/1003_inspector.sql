-- A person who is an inspector of the directories (a team member) signs in with their inspector id, which their
-- tokens carry (auth.inspector_claim): they confirm a visit's record form under their own name.
ALTER TABLE accounts ADD COLUMN inspector_id TEXT;
ALTER TABLE sessions ADD COLUMN inspector TEXT;
