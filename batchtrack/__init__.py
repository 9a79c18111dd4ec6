"""Batchtrack: batch (lot) traceability warehouse."""

__version__ = "0.1.0"
