"""Landing days as Dagster partitions."""

import os

import dagster as dg

FIRST_DAY_ENV = "BATCHTRACK_FIRST_DAY"

# One partition per landing day. The window is wide on purpose: a plant's folders may be
# dated years back (history loads) or ahead (a site whose clock or calendar runs early),
# and a day outside the window could not be loaded. About 17,000 partitions.
landing_days = dg.DailyPartitionsDefinition(
    start_date=os.environ.get(FIRST_DAY_ENV, "1990-01-01"),
    end_offset=3660,
)
