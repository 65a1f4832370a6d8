"""The `tinykiln` command: one module per group of subcommands; they parse and print only."""
