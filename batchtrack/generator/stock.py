"""Live stock: lots and how much of each sits where, in exact integer milli-units.

Quantities are integers in thousandths of the base unit, so every movement the generator
writes adds up exactly. Only live stock is kept: an emptied entry leaves memory, and a lot
leaves with its last entry.
"""

from __future__ import annotations

from collections import deque


class Lot:
    __slots__ = ("code", "product", "expiry", "expiry_text", "tainted", "recall_example", "line_code")

    def __init__(self, code, product, expiry, expiry_text, tainted=False, recall_example=False, line_code=""):
        self.code = code
        self.product = product
        self.expiry = expiry  # date ordinal of the last usable day
        self.expiry_text = expiry_text
        self.tainted = tainted  # made, at any depth, from the bad supplier's material
        self.recall_example = recall_example  # made from the lot the manifest names for a recall demo
        self.line_code = line_code


class Entry:
    """The stock of one lot at one site."""

    __slots__ = ("lot", "qty", "location", "state", "to_transfer")

    def __init__(self, lot, qty, location, to_transfer=False):
        self.lot = lot
        self.qty = qty
        self.location = location
        self.state = "shelf"  # shelf (usable, in FEFO order), held, rework, aged (too old to sell)
        self.to_transfer = to_transfer


class SiteStock:
    """One site's stock: usable entries per product in first-expiry-first-out order, plus
    entries off the shelf (on QC hold, or released into a rework pool)."""

    def __init__(self):
        self.shelf: dict[str, deque[Entry]] = {}
        self.available: dict[str, int] = {}  # product -> usable quantity on the shelf
        self.by_lot: dict[str, Entry] = {}
        self.off_shelf: dict[str, Entry] = {}

    def add(self, entry: Entry) -> None:
        code = entry.lot.product.code
        queue = self.shelf.get(code)
        if queue is None:
            queue = self.shelf[code] = deque()
            self.available[code] = 0
        expiry = entry.lot.expiry
        if not queue or queue[-1].lot.expiry <= expiry:
            queue.append(entry)
        else:
            position = len(queue) - 1
            while position > 0 and queue[position - 1].lot.expiry > expiry:
                position -= 1
            queue.insert(position, entry)
        entry.state = "shelf"
        self.available[code] += entry.qty
        self.by_lot[entry.lot.code] = entry

    def take(self, product_code: str, need: int) -> list[tuple[Entry, int]]:
        """Take up to `need` first-expiry-first-out; returns (entry, quantity) per lot used."""
        queue = self.shelf.get(product_code)
        taken: list[tuple[Entry, int]] = []
        if not queue:
            return taken
        total = 0
        while need > 0 and queue:
            entry = queue[0]
            quantity = entry.qty if entry.qty <= need else need
            entry.qty -= quantity
            need -= quantity
            total += quantity
            taken.append((entry, quantity))
            if entry.qty == 0:
                queue.popleft()
                del self.by_lot[entry.lot.code]
        self.available[product_code] -= total
        return taken

    def reduce(self, entry: Entry, quantity: int) -> None:
        """Remove `quantity` of an entry (scrap, write-off, transfer, shipment)."""
        entry.qty -= quantity
        if entry.state == "shelf":
            self.available[entry.lot.product.code] -= quantity
        if entry.qty == 0:
            self._drop(entry)

    def increase(self, entry: Entry, quantity: int) -> None:
        entry.qty += quantity
        if entry.state == "shelf":
            self.available[entry.lot.product.code] += quantity

    def _drop(self, entry: Entry) -> None:
        del self.by_lot[entry.lot.code]
        if entry.state == "shelf":
            self.shelf[entry.lot.product.code].remove(entry)
        else:
            del self.off_shelf[entry.lot.code]

    def take_off_shelf(self, entry: Entry, state: str) -> None:
        if entry.state == "shelf":
            self.shelf[entry.lot.product.code].remove(entry)
            self.available[entry.lot.product.code] -= entry.qty
        entry.state = state
        self.off_shelf[entry.lot.code] = entry

    def put_on_shelf(self, entry: Entry) -> None:
        del self.off_shelf[entry.lot.code]
        self.add(entry)

    def pop_expired(self, today: int) -> list[Entry]:
        """Entries whose lot expired before `today`, taken out of stock (the caller writes them off)."""
        expired: list[Entry] = []
        for code, queue in self.shelf.items():
            removed = 0
            while queue and queue[0].lot.expiry < today:
                entry = queue.popleft()
                removed += entry.qty
                del self.by_lot[entry.lot.code]
                expired.append(entry)
            self.available[code] -= removed
        for entry in [e for e in self.off_shelf.values() if e.lot.expiry < today]:
            del self.off_shelf[entry.lot.code]
            del self.by_lot[entry.lot.code]
            expired.append(entry)
        return expired

    def set_aside_aged(self, product_code: str, sell_by: int) -> list[Entry]:
        """Move entries expiring before `sell_by` off the shelf: too old to sell, kept until written off."""
        queue = self.shelf.get(product_code)
        aged: list[Entry] = []
        while queue and queue[0].lot.expiry < sell_by:
            entry = queue.popleft()
            self.available[product_code] -= entry.qty
            entry.state = "aged"
            self.off_shelf[entry.lot.code] = entry
            aged.append(entry)
        return aged

    def remove_where(self, product_code: str, predicate) -> list[Entry]:
        """Take every shelf entry of a product matching `predicate` out of stock, in FEFO order."""
        queue = self.shelf.get(product_code)
        if not queue:
            return []
        kept: deque[Entry] = deque()
        removed: list[Entry] = []
        for entry in queue:
            (removed if predicate(entry) else kept).append(entry)
        if removed:
            self.shelf[product_code] = kept
            for entry in removed:
                self.available[product_code] -= entry.qty
                del self.by_lot[entry.lot.code]
        return removed
