"""How the generator spells quantities, dates and timestamps in feed files."""

from __future__ import annotations

from datetime import date
from functools import cache

MILLI = 1000  # stock is counted in thousandths of the base unit


def quantity_text(milli: int, whole_units: bool) -> str:
    """'12.345' for kg and L; '12' for whole units (ea)."""
    if whole_units:
        return str(milli // MILLI)
    sign = "-" if milli < 0 else ""
    magnitude = -milli if milli < 0 else milli
    return f"{sign}{magnitude // MILLI}.{magnitude % MILLI:03d}"


@cache  # at most 86,400 distinct values, asked for millions of times
def clock_text(seconds: int) -> str:
    """'HH:MM:SS' for seconds since local midnight (kept inside the day)."""
    seconds = min(max(seconds, 0), 86399)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}"


def date_text(ordinal: int) -> str:
    return date.fromordinal(ordinal).isoformat()


def quantity_milli(text: str) -> int:
    """The inverse of `quantity_text` for the generator's own spellings."""
    sign = -1 if text.startswith("-") else 1
    whole, _, fraction = text.lstrip("-").partition(".")
    return sign * (int(whole) * MILLI + int((fraction + "000")[:3]))
