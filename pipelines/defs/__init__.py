"""One module per concern: partitions, resources, raw ingestion, dbt, publishing, automation."""
