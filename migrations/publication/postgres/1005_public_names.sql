-- The public search by name through an index (docs/adr/0003-public-name-search.md): each public record is kept
-- under every distinct pair of adjacent characters of its name, folded as `name_key` (ASCII letters in lower case).
ALTER TABLE public_records ADD COLUMN name_key TEXT NOT NULL DEFAULT '';
UPDATE public_records
   SET name_key = translate(target_name, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz');

-- The name rides in the index, so a search checks it without reading the records it does not return.
CREATE TABLE public_name_grams (
    gram             TEXT NOT NULL,
    sort_key         TEXT NOT NULL,
    name_key         TEXT NOT NULL,
    PRIMARY KEY (gram, sort_key) INCLUDE (name_key)
);
INSERT INTO public_name_grams (gram, sort_key, name_key)
SELECT DISTINCT substr(name_key, i, 2), sort_key, name_key
  FROM public_records, generate_series(1, length(name_key) - 1) AS i;
