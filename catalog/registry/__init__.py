"""The registry: schema, engines (SQLite, PostgreSQL), migrations, the sync lock, read-only access, store and queries."""
