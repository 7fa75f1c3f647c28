"""catalog.toml: its one loader, the pools and watch sections, and the checkers they share."""
