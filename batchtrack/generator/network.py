"""The plant network at a given scale: plants with their lines, DCs, suppliers and customers.

Scale changes how much flows (plants, lines, batches per line, customers), not the story:
every scale has the same catalogue, one drifting line and one bad supplier.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from batchtrack.generator.catalogue import (
    BAD_SUPPLIER_MATERIALS,
    FAMILY_LINES,
    PRODUCTS_BY_CODE,
)
from batchtrack.generator.parties import (
    SUPPLIER_KIND_OF,
    Customer,
    Supplier,
    make_customer,
    make_suppliers,
)


@dataclass(frozen=True)
class Scale:
    name: str
    plants: int
    dcs: int
    finished_lines: int  # per plant
    finished_batches: int  # per finished line and day
    customers: int
    suppliers: int


SCALES: dict[str, Scale] = {
    "small": Scale("small", plants=2, dcs=2, finished_lines=3, finished_batches=6, customers=300, suppliers=14),
    "medium": Scale("medium", plants=3, dcs=3, finished_lines=8, finished_batches=17, customers=1500, suppliers=22),
    "large": Scale("large", plants=8, dcs=6, finished_lines=12, finished_batches=44, customers=8000, suppliers=30),
}

# (code, name, country, family, lot code style); plant sites are taken in this order.
_PLANTS = (
    ("PLT-LEE", "Leeuwarden dairy plant", "NL", "dairy", "dash"),
    ("PLT-LIL", "Lille bakery plant", "FR", "bakery", "slash"),
    ("PLT-MUN", "Münster dairy plant", "DE", "dairy", "dash"),
    ("PLT-GNT", "Gent bakery plant", "BE", "bakery", "dash"),
    ("PLT-ZWO", "Zwolle dairy plant", "NL", "dairy", "dash"),
    ("PLT-AMI", "Amiens bakery plant", "FR", "bakery", "slash"),
    ("PLT-AAR", "Aarhus dairy plant", "DK", "dairy", "dash"),
    ("PLT-POZ", "Poznań bakery plant", "PL", "bakery", "dash"),
)
# (code, name, country, customer countries served, feeds whose timestamps carry an offset)
_DCS = (
    ("DC-UTR", "Utrecht distribution centre", "NL", ("NL", "BE"), ()),
    ("DC-DUI", "Duisburg distribution centre", "DE", ("DE", "DK", "PL"), ("inventory",)),
    ("DC-NOR", "Northampton distribution centre", "GB", ("GB",), ()),
    ("DC-ARR", "Arras distribution centre", "FR", ("FR",), ()),
    ("DC-HAM", "Hamburg distribution centre", "DE", ("DE", "DK"), ()),
    ("DC-POZ", "Poznań distribution centre", "PL", ("PL",), ()),
)
# The Lille micro lab's LIMS stamps its results (MICRO checks) with the UTC offset.
_OFFSET_FEEDS_OF_PLANT = {"PLT-LIL": ("micro_lab",)}


@dataclass(frozen=True)
class Line:
    site_code: str
    code: str
    kind: str  # intermediate or finished
    products: tuple[str, ...]


@dataclass
class Site:
    code: str
    name: str
    country: str
    kind: str  # plant or dc
    family: str = ""
    lot_style: str = "dash"
    markets: tuple[str, ...] = ()
    offset_feeds: tuple[str, ...] = ()  # feeds whose timestamps this site writes with an offset
    finished_lines: list[Line] = field(default_factory=list)
    intermediate_lines: list[Line] = field(default_factory=list)
    customers: list[Customer] = field(default_factory=list)
    bins: tuple[str, ...] = ()

    @property
    def short(self) -> str:
        return self.code.split("-")[1]

    def utc_offset(self, day: date) -> str:
        """The site's local UTC offset on `day` (EU summer time rules)."""
        standard = 0 if self.country == "GB" else 1
        return f"+{standard + _is_summer_time(day):02d}:00"


def _last_sunday(year: int, month: int) -> date:
    last = date(year, month + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() + 1) % 7)


def _is_summer_time(day: date) -> int:
    return int(_last_sunday(day.year, 3) <= day < _last_sunday(day.year, 10))


@dataclass
class Network:
    scale: Scale
    plants: list[Site]
    dcs: list[Site]
    suppliers: list[Supplier]
    suppliers_of: dict[str, list[Supplier]]  # purchased product -> suppliers
    customers: list[Customer]
    bad_supplier: Supplier
    drifting_line: Line

    @property
    def sites(self) -> list[Site]:
        return [*self.plants, *self.dcs]


def _plant_bins(short: str) -> tuple[str, ...]:
    return tuple(f"RM-{zone}{row:02d}" for zone in "AB" for row in range(1, 7)) + ("WIP-01", "WIP-02", "FG-01")


def _dc_bins() -> tuple[str, ...]:
    return tuple(f"{aisle}-{rack:02d}-{level}" for aisle in "ABCD" for rack in range(1, 9) for level in (1, 2, 3))


def build_network(scale: Scale, rng: random.Random) -> Network:
    plants: list[Site] = []
    for index in range(scale.plants):
        code, name, country, family, lot_style = _PLANTS[index]
        site = Site(
            code,
            name,
            country,
            "plant",
            family=family,
            lot_style=lot_style,
            offset_feeds=_OFFSET_FEEDS_OF_PLANT.get(code, ()),
        )
        site.bins = _plant_bins(site.short)
        patterns = FAMILY_LINES[family]
        for number in range(scale.finished_lines):
            site.finished_lines.append(Line(code, f"L{number + 1:02d}", "finished", patterns[number % len(patterns)]))
        # Intermediate lines (mixers, fermenters) number after the filling lines.
        first = scale.finished_lines + 1
        site.intermediate_lines = [
            Line(code, f"L{first + n:02d}", "intermediate", ()) for n in range(max(2, scale.finished_lines // 2))
        ]
        plants.append(site)

    dcs: list[Site] = []
    for index in range(scale.dcs):
        code, name, country, markets, offset_feeds = _DCS[index]
        dcs.append(Site(code, name, country, "dc", markets=markets, offset_feeds=offset_feeds, bins=_dc_bins()))

    suppliers = make_suppliers(rng, scale.suppliers)
    suppliers_of: dict[str, list[Supplier]] = {}
    for product_code, kind in SUPPLIER_KIND_OF.items():
        of_kind = [s for s in suppliers if s.kind == kind]
        suppliers_of[product_code] = of_kind[:3] if len(of_kind) >= 3 else of_kind
    packaging = [s for s in suppliers if s.kind == "packaging"]
    for product in PRODUCTS_BY_CODE.values():
        if product.category == "packaging":
            start = rng.randrange(len(packaging))
            suppliers_of[product.code] = [
                packaging[(start + k) % len(packaging)] for k in range(min(2, len(packaging)))
            ]
    # The bad supplier: the second fruit supplier, one of two or three for fresh fruit.
    fruit = [s for s in suppliers if s.kind == "fruit"]
    bad_supplier = fruit[1]
    for material in BAD_SUPPLIER_MATERIALS:
        if bad_supplier not in suppliers_of[material]:
            suppliers_of[material] = [*suppliers_of[material][:2], bad_supplier]

    customers: list[Customer] = []
    markets = [m for dc in dcs for m in dc.markets]
    for number in range(1, scale.customers + 1):
        customers.append(make_customer(rng, number, markets[rng.randrange(len(markets))]))
    for customer in customers:
        assign_customer(dcs, customer)

    drifting_line = plants[0].finished_lines[1]
    return Network(scale, plants, dcs, suppliers, suppliers_of, customers, bad_supplier, drifting_line)


def assign_customer(dcs: list[Site], customer: Customer) -> None:
    """Customers are served by the first DC whose market holds their country."""
    for dc in dcs:
        if customer.country in dc.markets:
            dc.customers.append(customer)
            return
    dcs[0].customers.append(customer)


def plant_materials(site: Site) -> list[str]:
    """Everything a plant makes or buys for its finished lines, in catalogue order."""
    needed: dict[str, None] = {}
    pending = [code for line in site.finished_lines for code in line.products]
    while pending:
        code = pending.pop()
        if code in needed:
            continue
        needed[code] = None
        pending.extend(input_code for input_code, _ in PRODUCTS_BY_CODE[code].bill_of_materials)
    return [code for code in PRODUCTS_BY_CODE if code in needed]
