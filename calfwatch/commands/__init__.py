"""Subcommands of the calfwatch command line, one module each."""
