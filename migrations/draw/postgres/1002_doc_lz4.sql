-- A province's draw record with its teams is a JSON document of some 200 MB; pglz spent seconds compressing it
-- on every save, lz4 a fraction of that (PostgreSQL 14 or later, built with lz4, as the common packages are).
ALTER TABLE draws ALTER COLUMN doc SET COMPRESSION lz4;
