"""The command line's subcommands, the daemon and the deploy files: thin shells over the library."""
