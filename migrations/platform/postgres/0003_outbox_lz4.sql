-- An event body can be megabytes (a province's locked list of 200,000 ids): lz4 compresses it in a third of the
-- time pglz takes. Only where the server was built with lz4 (PostgreSQL 14 or later, as the common packages are);
-- elsewhere the default stays.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
        ALTER TABLE outbox ALTER COLUMN body SET COMPRESSION lz4;
    END IF;
END
$$;
