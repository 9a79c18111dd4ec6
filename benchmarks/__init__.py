"""`make bench`: recall latency, competing engines, ingestion throughput and peak memory of
Batchtrack on generated data, printed as a table and written as JSON under the output folder.

Every phase runs in a child process (`benchmarks.child`) so its peak memory is its own.
"""
