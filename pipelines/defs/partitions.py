"""Landing days as Dagster partitions."""

import os

import dagster as dg

FIRST_DAY_ENV = "BATCHTRACK_FIRST_DAY"

# One partition per landing day folder. end_offset=1 admits today's folder as well.
landing_days = dg.DailyPartitionsDefinition(
    start_date=os.environ.get(FIRST_DAY_ENV, "2000-01-01"),
    end_offset=1,
)
