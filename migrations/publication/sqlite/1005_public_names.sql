-- The public search by name through an index (docs/adr/0003-public-name-search.md): each public record is kept
-- under every distinct pair of adjacent characters of its name, folded as `name_key` (ASCII letters in lower case;
-- SQLite's lower() folds ASCII only).
ALTER TABLE public_records ADD COLUMN name_key TEXT NOT NULL DEFAULT '';
UPDATE public_records SET name_key = lower(target_name);

-- The name rides in the index (a table without rowid is its primary key), so a search checks it there.
CREATE TABLE public_name_grams (
    gram             TEXT NOT NULL,
    sort_key         TEXT NOT NULL,
    name_key         TEXT NOT NULL,
    PRIMARY KEY (gram, sort_key)
) WITHOUT ROWID;
WITH RECURSIVE pairs(sort_key, name_key, i) AS (
    SELECT sort_key, name_key, 1 FROM public_records WHERE length(name_key) >= 2
    UNION ALL
    SELECT sort_key, name_key, i + 1 FROM pairs WHERE i + 2 <= length(name_key)
)
INSERT OR IGNORE INTO public_name_grams (gram, sort_key, name_key)
SELECT substr(name_key, i, 2), sort_key, name_key FROM pairs;
