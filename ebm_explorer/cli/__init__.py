"""Command line: ``ebm-explorer <command>``; every command works without a screen except the GUI."""
