"""What the registry renders: pools and their advice, the report, the pool files, the feed and the charts."""
