"""Rows for people and programs: output formats, terminal tables, colour and progress."""
