"""Dagster code location of Batchtrack: when and in what order things run."""
