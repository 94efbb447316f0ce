"""The `rag` command: subcommands, terminal rendering, batch answering and evaluation."""
