"""The command line's subcommands, the daemon and the deploy files: thin shells over the library.

Each handler imports the library it calls inside itself, so that `catalog --help` and the quick
read commands start without loading SQLAlchemy, httpx, Jinja or the jobs they do not run."""
