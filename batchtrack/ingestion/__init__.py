"""Reading landing files, validating their rows and loading them into the raw layer.

A plain library: the Dagster assets in `pipelines/` call it, and so do the tests.
"""

from batchtrack.ingestion.landing import LandingFile, day_folders, landing_files
from batchtrack.ingestion.loader import FeedDayResult, ingest_feed_day, ingest_feed_days
from batchtrack.ingestion.reader import HeaderError, read_landing_file
from batchtrack.ingestion.validation import ValidatedRows, validate_rows

__all__ = [
    "FeedDayResult",
    "HeaderError",
    "LandingFile",
    "ValidatedRows",
    "day_folders",
    "ingest_feed_day",
    "ingest_feed_days",
    "landing_files",
    "read_landing_file",
    "validate_rows",
]
