-- Nothing to do on SQLite: the PostgreSQL migration of the same number chooses lz4 for the record documents.
SELECT 1;
