"""Getting the catalog: fetch (HTTP or a file), normalize, diff, and the answers a backfill imports."""
