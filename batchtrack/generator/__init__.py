"""Realistic sample data for the landing zone: a simulated plant network, day by day.

    generate(landing, days=90, seed=7, scale="small")

writes `<landing>/YYYY-MM-DD/<feed>.csv` in the contract (see docs of `batchtrack.feeds`),
a corrected re-send under `<landing>/_resend/`, and `<landing>/_generator.json`, the manifest
of everything planted on purpose (bad rows, loops, late data, the bad supplier, the drifting line).
"""

from batchtrack.generator.network import SCALES
from batchtrack.generator.run import MANIFEST_NAME, RESEND_FOLDER, generate

__all__ = ["MANIFEST_NAME", "RESEND_FOLDER", "SCALES", "generate"]
