"""Bad rows: extra rows that break the contract in one known way each, for the quarantine to catch.

Which kinds apply to which feed follows from the contract declarations in `batchtrack.feeds`
(typed columns, keys, allowed values, feed rules), so a new feed gets its bad rows for free.
A bad row is a copy of a good row of the same file with one thing broken, given a key of its
own (except the duplicate, which repeats a good row after it), so good rows stay consistent.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from batchtrack.feeds import FEEDS_BY_NAME, Feed

# kind -> keyword the quarantine reason contains
KINDS: dict[str, str] = {
    "missing_required": "missing required value",
    "unparseable_number": "unparseable",
    "unparseable_date": "unparseable",
    "negative_quantity": "negative",
    "duplicate_key": "duplicate key",
    "defect_above_sample": "above sample_size",
    "unknown_movement_type": "unknown movement_type",
}

# Each kind at least once per run (when the run has the rows to copy): the four keyed
# transaction feeds each get a duplicate.
GUARANTEED: tuple[tuple[str, str], ...] = (
    ("missing_required", "production"),
    ("duplicate_key", "production"),
    ("unparseable_number", "consumption"),
    ("negative_quantity", "inventory"),
    ("duplicate_key", "inventory"),
    ("unknown_movement_type", "inventory"),
    ("unparseable_date", "inspections"),
    ("defect_above_sample", "inspections"),
    ("duplicate_key", "inspections"),
    ("missing_required", "shipments"),
    ("duplicate_key", "shipments"),
    ("negative_quantity", "shipments"),
    ("unparseable_date", "consumption"),
    ("unparseable_number", "inventory"),
)

_BAD_NUMBERS = ("12,5", "1.2.3", "n/a", "12 kg", "approx. 40", "one", "--")
_BAD_TIMES = ("31/06/2026 14:05", "2026-06-31T10:00:00", "yesterday", "2026/07/03 10:15", "14:05", "2026-13-01")
_BAD_MOVEMENTS = ("transfer", "RECEIPT", "writeoff", "recieve", "cycle_count", "move")
_NON_ADJUSTMENTS = ("receipt", "transfer_out", "transfer_in", "scrap", "expiry_writeoff", "return")


@dataclass(frozen=True)
class BadRow:
    line_number: int  # 1 = header, first data row = 2
    kind: str
    column: str

    @property
    def reason_keyword(self) -> str:
        return KINDS[self.kind]


def applicable_kinds(feed: Feed) -> list[str]:
    kinds = ["missing_required"]
    if any(c.type in ("integer", "decimal") for c in feed.columns):
        kinds.append("unparseable_number")
    if any(c.type in ("date", "timestamp") and c.required for c in feed.columns):
        kinds.append("unparseable_date")
    if "quantity" in feed.column_names:
        kinds.append("negative_quantity")
    if feed.key:
        kinds.append("duplicate_key")
    if "defects_within_sample" in feed.extra_rules:
        kinds.append("defect_above_sample")
    if any(c.allowed and c.name == "movement_type" for c in feed.columns):
        kinds.append("unknown_movement_type")
    return kinds


class FaultInjector:
    def __init__(self, seed: int, rate: float):
        self.rng = random.Random(f"batchtrack-faults-{seed}")
        self.rate = rate
        self._serial = 0

    def inject(self, feed_name: str, rows: list[dict], forced: list[str]) -> tuple[list[dict], list[BadRow]]:
        """Rows with bad ones mixed in at random places, and where each bad one landed.

        `forced` kinds are injected whatever the rate; the caller removes the ones done from its
        list (kinds that find no row to copy stay in `forced`)."""
        if not rows:
            return rows, []
        feed = FEEDS_BY_NAME[feed_name]
        rng = self.rng
        kinds = applicable_kinds(feed)
        wanted = [kind for kind in forced if kind in kinds]
        if self.rate > 0:
            # A binomial count, drawn as a sum of geometric gaps to stay cheap on big files.
            position = self._gap()
            while position < len(rows):
                wanted.append(kinds[rng.randrange(len(kinds))])
                position += 1 + self._gap()
        placed: list[tuple[float, int, dict, str, str]] = []  # (position, order, row, kind, column)
        for kind in wanted:
            made = self._bad_row(feed, rows, kind)
            if made is None:
                continue
            source_index, row, column = made
            if kind in forced:
                forced.remove(kind)
            # A duplicate lands after the row it repeats, so the first one seen is the good one.
            low = source_index + 0.5 if kind == "duplicate_key" else -0.5
            at = rng.uniform(low, len(rows))
            placed.append((at, len(placed), row, kind, column))
        if not placed:
            return rows, []
        placed.sort()
        merged: list[dict] = []
        bad: list[BadRow] = []
        start = 0
        for at, _, row, kind, column in placed:
            cut = max(start, min(len(rows), int(at) + 1 if at >= 0 else 0))
            merged.extend(rows[start:cut])
            start = cut
            bad.append(BadRow(len(merged) + 2, kind, column))
            merged.append(row)
        merged.extend(rows[start:])
        return merged, bad

    def _gap(self) -> int:
        # Rows until the next bad one: geometric with success probability `rate`.
        if self.rate >= 1:
            return 0
        return int(math.log(1.0 - self.rng.random()) / math.log(1.0 - self.rate))

    def _fresh_key(self, feed: Feed, row: dict) -> None:
        self._serial += 1
        if feed.name == "shipments":
            row["line_no"] = str(900 + self._serial % 100)
            row["shipment_id"] = f"{row['shipment_id']}-B{self._serial}"
        elif feed.key:
            name = feed.key[0]
            row[name] = f"{row[name]}-B{self._serial:04d}"

    def _bad_row(self, feed: Feed, rows: list[dict], kind: str) -> tuple[int, dict, str] | None:
        rng = self.rng
        index = rng.randrange(len(rows))
        if kind == "negative_quantity" and feed.name == "inventory":
            # Adjustments are signed and hold/release may be 0: copy a movement that must be > 0.
            candidates = [i for i, r in enumerate(rows) if r["movement_type"] in _NON_ADJUSTMENTS]
            if not candidates:
                return None
            index = candidates[rng.randrange(len(candidates))]
        row = dict(rows[index])
        if kind == "duplicate_key":
            return index, row, ",".join(feed.key)
        self._fresh_key(feed, row)
        if kind == "missing_required":
            column = rng.choice([c for c in feed.required_columns if c not in feed.key] or list(feed.required_columns))
            row[column] = ""
        elif kind == "unparseable_number":
            column = rng.choice(
                [c.name for c in feed.columns if c.type in ("integer", "decimal") and c.name not in feed.key]
            )
            row[column] = rng.choice(_BAD_NUMBERS)
        elif kind == "unparseable_date":
            column = rng.choice([c.name for c in feed.columns if c.type in ("date", "timestamp") and c.required])
            row[column] = rng.choice(_BAD_TIMES)
        elif kind == "negative_quantity":
            column = "quantity"
            row[column] = "-" + row[column].lstrip("-")
        elif kind == "defect_above_sample":
            column = "defect_count"
            row[column] = str(int(row["sample_size"]) + rng.randint(1, 5))
        elif kind == "unknown_movement_type":
            column = "movement_type"
            row[column] = rng.choice(_BAD_MOVEMENTS)
        else:
            raise ValueError(kind)
        return index, row, column
