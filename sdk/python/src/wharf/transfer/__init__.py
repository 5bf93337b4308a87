"""Pushes and pulls equal to the CLI's: parallel, resumable, verified, atomic."""
