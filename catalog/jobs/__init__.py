"""The jobs: sync, import, health refresh, probe and status. The only code that orchestrates;
the commands and the daemon call them and print what they return."""
