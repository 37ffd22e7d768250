"""Capacity scenarios: what-if changes to a round, run and compared with the base."""
