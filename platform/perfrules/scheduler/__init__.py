"""Scheduled evaluation runs: what is due, claimed exactly once, in its own process."""
