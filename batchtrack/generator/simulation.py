"""One business day of the plant network, simulated move by move.

Every row written is a real stock movement of the simulation, so the good rows balance
exactly: what a lot gains (made, received, transferred in, returned, adjusted up) it
loses only by what is on hand at that moment (consumed, shipped, transferred out,
scrapped, written off, adjusted down). The phases of a day run in clock order
(write-offs 00:30, receipts 04:00, releases 05:00, shipments 06:00, mixing 06:00-12:00,
filling 12:30-19:30, QC holds 20:15, transfers 21:00, stock counts 23:15), so sorting a
site's rows by time replays them in the order they happened.
"""

from __future__ import annotations

import math
import random
from collections import deque
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from batchtrack.generator.catalogue import (
    CHECKS,
    FINISHED_CHECKS,
    FINISHED_GOODS,
    INTERMEDIATE_CHECKS,
    PRODUCTS_BY_CODE,
    Product,
)
from batchtrack.generator.formats import MILLI, clock_text, date_text, quantity_text
from batchtrack.generator.network import Line, Network, Site, plant_materials
from batchtrack.generator.parties import supplier_lot_code
from batchtrack.generator.stock import Entry, Lot, SiteStock

CARRIERS = ("DHL Freight", "DB Schenker", "Kuehne+Nagel", "DSV Road", "Own fleet", "Bring Frigo")
HOUR = 3600


@dataclass
class Story:
    """What the generator planted on purpose, for the manifest."""

    bad_supplier_lots: list[dict] = field(default_factory=list)
    recall_example: dict | None = None
    recall_downstream_lots: int = 0
    recall_downstream_sample: list[str] = field(default_factory=list)
    recall_shipment_lines: int = 0
    recall_customers: dict[str, None] = field(default_factory=dict)
    loops: list[dict] = field(default_factory=list)
    late_references: list[dict] = field(default_factory=list)


@dataclass
class _Batch:
    line: Line
    product: Product
    units: int  # planned output, milli-units


class Simulation:
    def __init__(self, network: Network, *, seed: int, days: int, start_date: date):
        self.network = network
        self.days = days
        self.start = start_date
        self.rng = random.Random(f"batchtrack-simulation-{seed}")
        self.np_rng = np.random.default_rng([seed, 7])
        self.stock: dict[str, SiteStock] = {site.code: SiteStock() for site in network.sites}
        self.story = Story()
        self._counters: dict[str, int] = {}
        self._scheduled: dict[int, list[tuple[str, Site, Entry]]] = {}  # day -> (action, site, entry)
        self._recent_shipments: deque[tuple[Lot, Site, int]] = deque(maxlen=400)
        self._demand: dict[tuple[str, str], float] = {}  # (dc, product) -> smoothed daily inflow
        self._need: dict[tuple[str, str], float] = {}  # (plant, material) -> smoothed daily use
        self._materials = {plant.code: plant_materials(plant) for plant in network.plants}
        self._dc_weights = [max(1, len(dc.customers)) for dc in network.dcs]
        # Demand differs by DC and swings over four-week cycles, so some stock ages out.
        self._dc_factor = {(dc.code, p.code): self.rng.uniform(0.8, 1.05) for dc in network.dcs for p in FINISHED_GOODS}
        self._season_phase = {p.code: self.rng.random() for p in FINISHED_GOODS}
        for plant in network.plants:
            for code, quantity in self._expected_daily_use(plant).items():
                self._need[(plant.code, code)] = quantity
        # Days on which something rare is planted (only when the run is long enough).
        self.loop_days = [d for d in (int(days * 0.4), int(days * 0.75)) if 2 <= d < days] if days >= 6 else []
        self.late_days = [d for d in (int(days * 0.2), int(days * 0.5), int(days * 0.8)) if 1 <= d < days - 2]
        self.recall_example_from_day = min(2, days - 1)
        self.rows: dict[str, list[dict]] = {}
        self.deferred: dict[int, list[dict]] = {}  # day index -> receipt rows delivered late
        self._damaged_returns: list[tuple[Site, Entry, int, str]] = []
        self._late_receipts_due = 0

    # ---------------------------------------------------------------- the day

    def run_day(self, index: int) -> dict[str, list[dict]]:
        self.index = index
        self.day = self.start + timedelta(days=index)
        self.ordinal = self.day.toordinal()
        self.day_text = self.day.isoformat()
        self.day_code = self.day.strftime("%y%m%d")
        self.drift = index / max(1, self.days - 1)
        self.rows = {name: [] for name in ("production", "consumption", "inspections", "inventory", "shipments")}
        self._suffix = {
            (site.code, feed): site.utc_offset(self.day) if feed in site.offset_feeds else ""
            for site in self.network.sites
            for feed in ("production", "consumption", "inspections", "inventory", "shipments", "micro_lab")
        }
        self._lot_sequence = {site.code: 0 for site in self.network.plants}
        self._used: dict[tuple[str, str], int] = {}
        if index in self.late_days:
            self._late_receipts_due += 1

        self._write_off_expired()
        for plant in self.network.plants:
            self._receive_materials(plant)
        self._run_scheduled()
        for plant in self.network.plants:
            self._ship_from_plant(plant)
        for dc in self.network.dcs:
            self._ship_from_dc(dc)
        for plant in self.network.plants:
            plan = self._plan_finished(plant)
            made = self._make_intermediates(plant, plan)
            self._inspect(plant, made, start=int(11.75 * HOUR), hold_at=int(12.3 * HOUR))
            made = self._make_finished(plant, plan)
            self._inspect(plant, made, start=int(19.6 * HOUR), hold_at=int(20.25 * HOUR))
        for dc in self.network.dcs:
            self._take_returns(dc)
        inflow: dict[tuple[str, str], int] = {}
        for plant in self.network.plants:
            self._transfer_to_dcs(plant, inflow)
        for site in self.network.sites:
            self._count_stock(site)
        self._learn(inflow)

        if self._late_receipts_due and index + 2 < self.days:
            self._delay_a_receipt()
        self.rows["inventory"].extend(self.deferred.pop(index, []))
        return self.rows

    def _delay_a_receipt(self) -> None:
        """Hold back today's receipt of a raw lot that production already used today: its
        paperwork reaches the landing zone two days later than the consumption rows."""
        used_today = {row["input_lot_code"] for row in self.rows["consumption"]}
        inventory = self.rows["inventory"]
        position = next(
            (
                i
                for i, row in enumerate(inventory)
                if row["movement_type"] == "receipt"
                and row["lot_code"] in used_today
                and row["product_code"].startswith("RM-")
            ),
            None,
        )
        if position is None:
            return
        row = inventory.pop(position)
        self._late_receipts_due -= 1
        delivered = self.index + 2
        self.deferred.setdefault(delivered, []).append(row)
        self.story.late_references.append(
            {
                "lot_code": row["lot_code"],
                "movement_id": row["movement_id"],
                "received_on": self.day_text,
                "first_consumed_in": self.day_text,
                "delivered_in": (self.start + timedelta(days=delivered)).isoformat(),
            }
        )

    # ---------------------------------------------------------------- ids and stamps

    def _next(self, counter: str) -> int:
        value = self._counters.get(counter, 0) + 1
        self._counters[counter] = value
        return value

    def inspection_id(self, like: str) -> str:
        """A fresh inspection id from the same lab as `like`."""
        plant = next(p for p in self.network.plants if p.short == like.split("-")[1])
        return f"QC-{plant.short}-{self._next('qc-' + plant.code):07d}"

    def _stamp(self, site: Site, feed: str, seconds: int) -> str:
        return f"{self.day_text}T{clock_text(seconds)}{self._suffix[(site.code, feed)]}"

    def _movement_id(self, site: Site) -> str:
        return f"MV-{site.short}-{self._next('mv-' + site.code):08d}"

    def _lot_code(self, site: Site, line: str) -> str:
        self._lot_sequence[site.code] += 1
        number = self._lot_sequence[site.code]
        if site.lot_style == "slash":
            return f"{site.short}/{self.day_code}/{line}/{number:04d}"
        return f"{site.short}-{self.day_code}-{line}-{number:04d}"

    def _movement(self, site, entry, movement_type, quantity, seconds, reference="", **extra) -> dict:
        product = entry.lot.product
        row = {
            "movement_id": self._movement_id(site),
            "lot_code": entry.lot.code,
            "product_code": product.code,
            "site_code": site.code,
            "location_code": entry.location,
            "movement_type": movement_type,
            "quantity": quantity_text(quantity, product.whole_units),
            "moved_at": self._stamp(site, "inventory", seconds),
            "reference": reference,
        }
        row.update(extra)
        self.rows["inventory"].append(row)
        return row

    # ---------------------------------------------------------------- planning

    def _expected_daily_use(self, plant: Site) -> dict[str, float]:
        """Material use per day if every planned batch runs at nominal size (milli-units)."""
        use: dict[str, float] = {}
        pending: list[tuple[str, float]] = []
        for line in plant.finished_lines:
            for code in line.products:
                product = PRODUCTS_BY_CODE[code]
                pending.append((code, self.network.scale.finished_batches / len(line.products) * product.batch_size))
        while pending:
            code, units = pending.pop()
            for input_code, ratio in PRODUCTS_BY_CODE[code].bill_of_materials:
                need = units * ratio
                use[input_code] = use.get(input_code, 0.0) + need * MILLI
                if PRODUCTS_BY_CODE[input_code].category == "intermediate":
                    pending.append((input_code, need))
        return use

    def _plan_finished(self, plant: Site) -> list[_Batch]:
        rng = self.rng
        plan: list[_Batch] = []
        sunday = self.day.weekday() == 6
        for line in plant.finished_lines:
            batches = self.network.scale.finished_batches + rng.randint(-1, 1)
            if sunday:
                batches //= 2
            for number in range(max(0, batches)):
                product = PRODUCTS_BY_CODE[line.products[(number + self.index) % len(line.products)]]
                units = int(product.batch_size * rng.uniform(0.85, 1.1)) // 12 * 12
                plan.append(_Batch(line, product, units * MILLI))
        return plan

    def _bill(self, product: Product, output: int) -> list[tuple[str, int]]:
        """Input quantities (milli-units) for `output` milli-units of `product`."""
        needs = []
        for input_code, ratio in product.bill_of_materials:
            if PRODUCTS_BY_CODE[input_code].whole_units:
                needs.append((input_code, math.ceil(output / MILLI * ratio) * MILLI))
            else:
                needs.append((input_code, round(output * ratio)))
        return needs

    def _feasible(self, stock: SiteStock, product: Product, output: int, step: int) -> int:
        """The largest output (a multiple of `step`, at most `output`) the site's stock allows."""
        for input_code, need in self._bill(product, output):
            have = stock.available.get(input_code, 0)
            if need > have:
                output = min(output, int(output * have / need * 0.98) // step * step)
        while output > 0 and any(need > stock.available.get(code, 0) for code, need in self._bill(product, output)):
            output -= step
        return max(0, output)

    # ---------------------------------------------------------------- phases

    def _write_off_expired(self) -> None:
        for site in self.network.sites:
            seconds = int(0.5 * HOUR)
            for entry in self.stock[site.code].pop_expired(self.ordinal):
                seconds += 7
                self._movement(site, entry, "expiry_writeoff", entry.qty, seconds, reference="EXPIRED")

    def _receive_materials(self, plant: Site) -> None:
        rng = self.rng
        stock = self.stock[plant.code]
        seconds = 4 * HOUR
        for code in self._materials[plant.code]:
            product = PRODUCTS_BY_CODE[code]
            if product.category not in ("raw", "packaging"):
                continue
            need = self._need[(plant.code, code)]
            on_hand = stock.available.get(code, 0)
            reorder_days, cover_days, lot_days = (1.3, 2.6, 0.7) if product.perishable else (3.0, 7.0, 3.0)
            if on_hand >= need * reorder_days:
                continue
            # Fresh material is now and then over-ordered (a deal, a typo), and then some of it ages out.
            over = rng.uniform(2.5, 3.5) if product.perishable and rng.random() < 0.04 else rng.uniform(1.0, 1.15)
            quantity = need * cover_days * over - on_hand
            lots = max(1, min(12, math.ceil(quantity / max(1.0, need * lot_days))))
            suppliers = self.network.suppliers_of[code]
            supplier = suppliers[rng.randrange(len(suppliers))]
            reference = f"PO-45{self._next('po'):08d}"
            for _ in range(lots):
                size = quantity / lots * rng.uniform(0.9, 1.1)
                milli = max(1, int(size / MILLI / 100)) * 100 * MILLI if product.whole_units else max(1000, int(size))
                seconds = min(seconds + rng.randint(5, 25), int(5.9 * HOUR))
                self._receive(plant, product, supplier, milli, seconds, reference)

    def _receive(self, plant: Site, product: Product, supplier, milli: int, seconds: int, reference: str) -> None:
        rng = self.rng
        sequence = self._next("raw-" + plant.code)
        if plant.lot_style == "slash":
            code = f"{plant.short}/R/{self.day_code}/{sequence:05d}"
        else:
            code = f"{plant.short}-R{self.day_code}-{sequence:05d}"
        supplier_lot = supplier_lot_code(supplier.lot_style, 100 + self._next("sl-" + supplier.code) * 7, self.day.year)
        stated_expiry = rng.random() < 0.7
        expiry = self.ordinal + product.shelf_life_days - (rng.randint(0, 2) if stated_expiry else 0)
        bad = supplier.code == self.network.bad_supplier.code
        example = (
            bad
            and self.story.recall_example is None
            and self.index >= self.recall_example_from_day
            and product.code == "RM-STRAW"
        )
        lot = Lot(code, product, expiry, date_text(expiry), tainted=bad, recall_example=example)
        entry = Entry(lot, milli, plant.bins[rng.randrange(12)])
        self.stock[plant.code].add(entry)
        row = {
            "movement_id": self._movement_id(plant),
            "lot_code": code,
            "product_code": product.code,
            "site_code": plant.code,
            "location_code": entry.location,
            "movement_type": "receipt",
            "quantity": quantity_text(milli, product.whole_units),
            "moved_at": self._stamp(plant, "inventory", seconds),
            "supplier_code": supplier.code,
            "supplier_lot_code": supplier_lot,
            "expiry_date": lot.expiry_text if stated_expiry else "",
            "reference": reference,
        }
        self.rows["inventory"].append(row)
        if bad:
            self.story.bad_supplier_lots.append(
                {
                    "lot_code": code,
                    "supplier_lot_code": supplier_lot,
                    "product_code": product.code,
                    "site_code": plant.code,
                    "received_on": self.day_text,
                }
            )
        if example:
            self.story.recall_example = {
                "lot_code": code,
                "supplier_code": supplier.code,
                "supplier_lot_code": supplier_lot,
                "product_code": product.code,
                "site_code": plant.code,
                "received_on": self.day_text,
            }

    def _run_scheduled(self) -> None:
        seconds = 5 * HOUR
        for action, site, entry in self._scheduled.pop(self.index, []):
            stock = self.stock[site.code]
            if stock.by_lot.get(entry.lot.code) is not entry or entry.state != "held":
                continue  # written off in the meantime
            seconds += 11
            if action == "scrap":
                self._movement(site, entry, "scrap", entry.qty, seconds, reference="QC-REJECT")
                stock.reduce(entry, entry.qty)
                continue
            self._movement(site, entry, "release", entry.qty, seconds, reference="QC-RELEASE")
            stock.put_on_shelf(entry)
            if entry.lot.product.category == "finished":
                if site.kind == "plant" and self.rng.random() < 0.4:
                    stock.take_off_shelf(entry, "rework")  # to be worked into a fresh batch
                else:
                    entry.to_transfer = True

    def _ship_from_plant(self, plant: Site) -> None:
        """Plants ship a few retained finished lots straight to large customers."""
        rng = self.rng
        stock = self.stock[plant.code]
        seconds = 6 * HOUR
        customers = self.network.customers
        for code in list(stock.shelf):
            if PRODUCTS_BY_CODE[code].category != "finished":
                continue
            for entry in stock.remove_where(code, lambda e: not e.to_transfer and rng.random() < 0.7):
                customer = customers[rng.randrange(len(customers))]
                seconds += rng.randint(60, 300)
                self._ship_line(
                    plant,
                    entry,
                    entry.qty,
                    customer,
                    f"SH-{plant.short}-{self._next('sh-' + plant.code):07d}",
                    1,
                    seconds,
                    rng.choice(CARRIERS),
                )

    def _ship_line(self, site, entry, quantity, customer, shipment_id, line_no, seconds, carrier) -> None:
        lot = entry.lot
        self.rows["shipments"].append(
            {
                "shipment_id": shipment_id,
                "line_no": str(line_no),
                "lot_code": lot.code,
                "product_code": lot.product.code,
                "quantity": quantity_text(quantity, lot.product.whole_units),
                "shipped_at": self._stamp(site, "shipments", seconds),
                "site_code": site.code,
                "customer_code": customer.code,
                "ship_to": customer.ship_to,
                "carrier": carrier,
                "reference": f"SO-{shipment_id[3:]}",
            }
        )
        if self.rng.random() < 0.15:
            self._recent_shipments.append((lot, site, quantity))
        if lot.recall_example:
            self.story.recall_shipment_lines += 1
            self.story.recall_customers[customer.code] = None

    def _ship_from_dc(self, dc: Site) -> None:
        rng = self.rng
        stock = self.stock[dc.code]
        customers = dc.customers
        if not customers:
            return
        orders: dict[str, list[tuple[str, int]]] = {}
        by_code = {}
        for code in list(stock.shelf):
            product = PRODUCTS_BY_CODE[code]
            # Retail customers take nothing with less than 40% of its shelf life left.
            stock.set_aside_aged(code, self.ordinal + int(product.shelf_life_days * 0.4))
            available = stock.available[code]
            smoothed = self._demand.get((dc.code, code), 0.0)
            if available <= 0 or smoothed <= 0:
                continue
            season = 1.0 + 0.25 * math.sin(2 * math.pi * (self.index / 28 + self._season_phase[code]))
            factor = product.demand_factor * self._dc_factor[(dc.code, code)] * season
            demand = min(available, int(smoothed * factor * rng.uniform(0.85, 1.15)))
            line_size = max(12, int(product.batch_size / 5)) * MILLI
            while demand >= 12 * MILLI:
                size = int(line_size * rng.uniform(0.3, 1.7)) // (12 * MILLI) * 12 * MILLI
                size = min(demand, max(12 * MILLI, size)) // (12 * MILLI) * 12 * MILLI
                demand -= size
                # Big customers order more often than small ones.
                customer = customers[int(len(customers) * rng.random() ** 2)]
                by_code[customer.code] = customer
                orders.setdefault(customer.code, []).append((code, size))
        seconds = 7 * HOUR
        step = max(1, int(5 * HOUR / max(1, len(orders))))
        for customer_code, lines in orders.items():
            seconds += rng.randint(1, step)
            shipment_id = f"SH-{dc.short}-{self._next('sh-' + dc.code):07d}"
            carrier = CARRIERS[rng.randrange(len(CARRIERS))]
            line_no = 0
            for code, size in lines:
                for entry, quantity in stock.take(code, size):
                    line_no += 1
                    self._ship_line(dc, entry, quantity, by_code[customer_code], shipment_id, line_no, seconds, carrier)

    def _make_intermediates(self, plant: Site, plan: list[_Batch]) -> list[Lot]:
        rng = self.rng
        stock = self.stock[plant.code]
        for code in self._materials[plant.code]:
            if PRODUCTS_BY_CODE[code].category == "raw" and PRODUCTS_BY_CODE[code].perishable:
                # Fresh material within two days of its expiry is not used any more.
                stock.set_aside_aged(code, self.ordinal + 2)
        need: dict[str, float] = {}
        for batch in plan:
            for code, quantity in self._bill(batch.product, batch.units):
                if PRODUCTS_BY_CODE[code].category == "intermediate":
                    need[code] = need.get(code, 0) + quantity
        lines = plant.intermediate_lines
        jobs: list[tuple[Line, Product, int]] = []
        for code in self._materials[plant.code]:
            if code not in need:
                continue
            product = PRODUCTS_BY_CODE[code]
            to_make = need[code] * rng.uniform(1.0, 1.12) - stock.available.get(code, 0)
            if to_make <= 0:
                continue
            batches = max(1, math.ceil(to_make / (product.batch_size * MILLI)))
            for _ in range(batches):
                size = int(to_make / batches * rng.uniform(0.95, 1.05))
                jobs.append((lines[len(jobs) % len(lines)], product, size))
        slot = int(5.6 * HOUR / max(1, math.ceil(len(jobs) / len(lines))))
        clocks = {line.code: 6 * HOUR for line in lines}
        made: list[Lot] = []
        for line, product, size in jobs:
            start = clocks[line.code]
            clocks[line.code] = start + slot
            size = self._feasible(stock, product, size, MILLI)
            if size >= 50 * MILLI:
                made.append(self._produce(plant, line, product, size, start, start + slot - 60))
        return made

    def _make_finished(self, plant: Site, plan: list[_Batch]) -> list[Lot]:
        rng = self.rng
        stock = self.stock[plant.code]
        per_line: dict[str, int] = {}
        for batch in plan:
            per_line[batch.line.code] = per_line.get(batch.line.code, 0) + 1
        clocks = {line.code: int(12.5 * HOUR) for line in plant.finished_lines}
        made: list[Lot] = []
        for batch in plan:
            slot = int(7 * HOUR / per_line[batch.line.code])
            start = clocks[batch.line.code]
            clocks[batch.line.code] = start + slot
            units = self._feasible(stock, batch.product, batch.units, 12 * MILLI)
            if units < batch.units // 5:
                continue
            rework = None
            if rng.random() < 0.3:
                rework = next(
                    (e for e in stock.off_shelf.values() if e.state == "rework" and e.lot.product is batch.product),
                    None,
                )
            lot = self._produce(plant, batch.line, batch.product, units, start, start + slot - 300, rework=rework)
            made.append(lot)
            if self.index in self.loop_days and len(self.story.loops) < self.loop_days.index(self.index) + 1:
                self._record_loop(plant, lot, start + slot - 240)
        return made

    def _produce(self, plant, line, product, output, start, end, rework=None) -> Lot:
        """One batch: consume inputs first-expiry-first-out, then book the output lot."""
        stock = self.stock[plant.code]
        code = self._lot_code(plant, line.code)
        consumed_at = self._stamp(plant, "consumption", start)
        consumption = self.rows["consumption"]
        tainted = False
        example = False
        self._last_intermediate_input = None
        for input_code, need in self._bill(product, output):
            for entry, quantity in stock.take(input_code, need):
                source = entry.lot
                tainted = tainted or source.tainted
                example = example or source.recall_example
                if source.product.category == "intermediate":
                    self._last_intermediate_input = source.code
                consumption.append(
                    {
                        "lot_code": code,
                        "input_lot_code": source.code,
                        "quantity": quantity_text(quantity, source.product.whole_units),
                        "consumed_at": consumed_at,
                    }
                )
            used = (plant.code, input_code)
            self._used[used] = self._used.get(used, 0) + need
        if rework is not None:
            quantity = min(rework.qty, output // 4 // MILLI * MILLI)
            if quantity > 0:
                tainted = tainted or rework.lot.tainted
                example = example or rework.lot.recall_example
                consumption.append(
                    {
                        "lot_code": code,
                        "input_lot_code": rework.lot.code,
                        "quantity": quantity_text(quantity, True),
                        "consumed_at": consumed_at,
                    }
                )
                stock.reduce(rework, quantity)
        expiry = self.ordinal + product.shelf_life_days
        lot = Lot(code, product, expiry, date_text(expiry), tainted, example, line.code)
        finished = product.category == "finished"
        stock.add(
            Entry(lot, output, "FG-01" if finished else "WIP-01", to_transfer=finished and self.rng.random() > 0.05)
        )
        self.rows["production"].append(
            {
                "lot_code": code,
                "product_code": product.code,
                "site_code": plant.code,
                "line_code": line.code,
                "produced_at": self._stamp(plant, "production", end),
                "quantity": quantity_text(output, product.whole_units),
                "production_order": f"MO-{plant.short}-{self._next('mo-' + plant.code):07d}",
                # Lille's MES leaves expiry blank: the contract then reads produced date + shelf life.
                "expiry_date": "" if plant.lot_style == "slash" else lot.expiry_text,
                "shift": "A" if end < 14 * HOUR else "B",
            }
        )
        if example:
            self.story.recall_downstream_lots += 1
            if len(self.story.recall_downstream_sample) < 40:
                self.story.recall_downstream_sample.append(code)
        return lot

    def _record_loop(self, plant: Site, lot: Lot, seconds: int) -> None:
        """A mis-scanned label: the new finished lot booked as consumed into one of its own inputs."""
        rows = self.rows["consumption"]
        ancestor = self._last_intermediate_input
        entry = self.stock[plant.code].by_lot.get(lot.code)
        if ancestor is None or entry is None or entry.state != "shelf":
            return
        quantity = min(entry.qty, 12 * MILLI)
        rows.append(
            {
                "lot_code": ancestor,
                "input_lot_code": lot.code,
                "quantity": quantity_text(quantity, True),
                "consumed_at": self._stamp(plant, "consumption", seconds),
            }
        )
        self.stock[plant.code].reduce(entry, quantity)
        self.story.loops.append({"lot_code": ancestor, "input_lot_code": lot.code, "day": self.day_text})

    def _inspect(self, plant: Site, lots: list[Lot], start: int, hold_at: int) -> None:
        if not lots:
            return
        rng = self.rng
        drifting = self.network.drifting_line
        drift = 1.0 + 7.0 * self.drift**1.3
        checks: list[tuple[Lot, str, int, float]] = []
        for lot in lots:
            finished = lot.product.category == "finished"
            for check in FINISHED_CHECKS if finished else INTERMEDIATE_CHECKS:
                if check == "MICRO" and finished and rng.random() > 0.3:
                    continue
                if check == "FOREIGN_BODY" and rng.random() > (0.4 if finished else 0.5):
                    continue
                if check == "LABEL" and rng.random() > 0.5:
                    continue
                (low, high), probability, _ = CHECKS[check]
                # The wearing filler on the drifting line underfills and mis-seals;
                # contaminated fruit shows up as micro and foreign-body findings.
                if check in ("WEIGHT", "SEAL") and plant.code == drifting.site_code and lot.line_code == drifting.code:
                    probability *= drift
                if lot.tainted and check in ("MICRO", "FOREIGN_BODY"):
                    probability *= 6.0
                checks.append((lot, check, rng.randint(low, high), probability))
        samples = np.fromiter((c[2] for c in checks), dtype=np.int64, count=len(checks))
        probabilities = np.fromiter((c[3] for c in checks), dtype=np.float64, count=len(checks))
        defects = self.np_rng.binomial(samples, probabilities).tolist()
        worst: dict[str, str] = {}
        seconds = start
        step = max(1, int((hold_at - start - 120) / len(checks)))
        inspections = self.rows["inspections"]
        for (lot, check, sample, _), defect_count in zip(checks, defects, strict=True):
            limit = CHECKS[check][2]
            if defect_count <= limit * sample:
                result = "pass"
            elif defect_count <= max(1, 2.5 * limit * sample):
                result = "hold"
            else:
                result = "fail"
            if result != "pass" and worst.get(lot.code) != "fail":
                worst[lot.code] = result
            seconds += rng.randint(1, step)
            inspections.append(
                {
                    "inspection_id": f"QC-{plant.short}-{self._next('qc-' + plant.code):07d}",
                    "lot_code": lot.code,
                    "inspected_at": self._stamp(
                        plant, "micro_lab" if check == "MICRO" else "inspections", min(seconds, hold_at - 60)
                    ),
                    "check_code": check,
                    "sample_size": str(sample),
                    "defect_count": str(defect_count),
                    "result": result,
                }
            )
        stock = self.stock[plant.code]
        seconds = hold_at
        for lot_code, result in worst.items():
            entry = stock.by_lot.get(lot_code)
            if entry is None or entry.state != "shelf":
                continue
            seconds += 13
            self._movement(plant, entry, "hold", entry.qty, seconds, reference=f"NCR-{self._next('ncr'):06d}")
            stock.take_off_shelf(entry, "held")
            if result == "fail" or rng.random() < 0.15:
                action, wait = "scrap", 1
            else:
                action, wait = "release", rng.randint(1, 2)
            self._scheduled.setdefault(self.index + wait, []).append((action, plant, entry))

    def _take_returns(self, dc: Site) -> None:
        rng = self.rng
        stock = self.stock[dc.code]
        seconds = 13 * HOUR
        returns = sum(1 for _ in range(self.network.scale.dcs) if rng.random() < 0.25)
        candidates = [item for item in self._recent_shipments if item[1] is dc]
        for _ in range(returns if candidates else 0):
            lot, _, shipped = candidates[rng.randrange(len(candidates))]
            quantity = max(MILLI, int(shipped * rng.uniform(0.02, 0.2)) // MILLI * MILLI)
            quantity = min(quantity, shipped)
            seconds += rng.randint(300, 3000)
            entry = stock.by_lot.get(lot.code)
            if entry is None:
                entry = Entry(lot, 0, "RET-01")
                stock.add(entry)
            reference = f"RMA-{self._next('rma'):06d}"
            self._movement(dc, entry, "return", quantity, seconds, reference=reference)
            stock.increase(entry, quantity)
            if rng.random() < 0.5:
                # Damaged on the way back: scrapped in the night.
                self._damaged_returns.append((dc, entry, quantity, reference))

    def _transfer_to_dcs(self, plant: Site, inflow: dict[tuple[str, str], int]) -> None:
        rng = self.rng
        stock = self.stock[plant.code]
        dcs = self.network.dcs
        leaving = [
            entry
            for code in list(stock.shelf)
            if PRODUCTS_BY_CODE[code].category == "finished"
            for entry in stock.remove_where(code, lambda e: e.to_transfer)
        ]
        # Trucks leave between 21:00 and 22:00 and unload at the DC within the next hour.
        step = max(1, int(HOUR / 1.2 / max(1, len(leaving))))
        out_at = 21 * HOUR
        for entry in leaving:
            code = entry.lot.product.code
            shares = [(rng.choices(dcs, self._dc_weights)[0], entry.qty)]
            if len(dcs) > 1 and entry.qty >= 24 * MILLI and rng.random() < 0.1:
                first = entry.qty * rng.randint(3, 7) // 10 // MILLI * MILLI
                other = rng.choice([dc for dc in dcs if dc is not shares[0][0]])
                shares = [(shares[0][0], first), (other, entry.qty - first)]
            for dc, quantity in shares:
                out_at += rng.randint(1, step)
                reference = f"TR-{plant.short}-{self._next('tr'):07d}"
                self._movement(plant, entry, "transfer_out", quantity, out_at, reference=reference)
                arrived = Entry(entry.lot, quantity, dc.bins[rng.randrange(len(dc.bins))])
                self._movement(
                    dc, arrived, "transfer_in", quantity, out_at + rng.randint(1800, 3600), reference=reference
                )
                self.stock[dc.code].add(arrived)
                key = (dc.code, code)
                inflow[key] = inflow.get(key, 0) + quantity

    def _count_stock(self, site: Site) -> None:
        """Night-time cycle counts (signed adjustments) and damage found on the floor (scrap)."""
        rng = self.rng
        stock = self.stock[site.code]
        seconds = int(23.25 * HOUR)
        for dc, entry, quantity, reference in self._damaged_returns:
            if dc is site and stock.by_lot.get(entry.lot.code) is entry and entry.state == "shelf":
                quantity = min(quantity, entry.qty)
                seconds += 17
                self._movement(site, entry, "scrap", quantity, seconds, reference=reference)
                stock.reduce(entry, quantity)
        products = [code for code, queue in stock.shelf.items() if queue]
        if not products:
            return
        counts = 1 + self.network.scale.finished_lines // 3
        for number in range(counts * 2):
            queue = stock.shelf[products[rng.randrange(len(products))]]
            if not queue:
                continue
            entry = queue[rng.randrange(len(queue))]
            whole = entry.lot.product.whole_units
            seconds += rng.randint(20, 200)
            if number % 2 == 0:
                step = MILLI if whole else 1
                delta = max(step, int(entry.qty * rng.uniform(0.001, 0.015)) // step * step)
                if rng.random() < 0.5:
                    delta = -min(delta, entry.qty - step)
                if delta == 0:
                    continue
                self._movement(site, entry, "adjustment", delta, seconds, reference=f"CC-{self._next('cc'):06d}")
                if delta > 0:
                    stock.increase(entry, delta)
                else:
                    stock.reduce(entry, -delta)
            elif rng.random() < 0.5:
                step = MILLI if whole else 1
                quantity = max(step, int(entry.qty * rng.uniform(0.01, 0.1)) // step * step)
                quantity = min(quantity, entry.qty)
                self._movement(site, entry, "scrap", quantity, seconds, reference="DAMAGED")
                stock.reduce(entry, quantity)

    def _learn(self, inflow: dict[tuple[str, str], int]) -> None:
        """Smooth today's DC inflow (customer demand follows it) and plant material use (orders follow it)."""
        self._damaged_returns = []
        for dc in self.network.dcs:
            for code in PRODUCTS_BY_CODE:
                key = (dc.code, code)
                today = inflow.get(key, 0)
                before = self._demand.get(key)
                if before is None:
                    if today:
                        self._demand[key] = float(today)
                else:
                    self._demand[key] = 0.8 * before + 0.2 * today
        for key, used in self._used.items():
            self._need[key] = 0.7 * self._need[key] + 0.3 * used
