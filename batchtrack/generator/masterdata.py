"""Master-data deliveries: full snapshots on the first day, then the occasional partial update
(new customers, a changed unit cost, a new supplier), as a real ERP export would send them."""

from __future__ import annotations

import random

from batchtrack.generator.catalogue import PRODUCTS
from batchtrack.generator.network import Network, assign_customer
from batchtrack.generator.parties import Customer, Supplier, make_customer, slug


def _product_row(product, unit_cost: float) -> dict:
    return {
        "product_code": product.code,
        "description": product.description,
        "category": product.category,
        "base_unit": product.base_unit,
        "shelf_life_days": str(product.shelf_life_days),
        "unit_cost": f"{unit_cost:.4f}",
    }


def _supplier_row(supplier: Supplier) -> dict:
    return {
        "supplier_code": supplier.code,
        "name": supplier.name,
        "country": supplier.country,
        "contact_email": supplier.contact_email,
    }


def _customer_row(customer: Customer) -> dict:
    return {
        "customer_code": customer.code,
        "name": customer.name,
        "country": customer.country,
        "contact_email": customer.contact_email,
        "phone": customer.phone,
    }


class MasterData:
    def __init__(self, network: Network, seed: int):
        self.network = network
        self.rng = random.Random(f"batchtrack-master-{seed}")
        self.unit_costs = {product.code: product.unit_cost for product in PRODUCTS}
        self.updates: list[dict] = []  # for the manifest

    def rows_for(self, index: int, day_text: str) -> dict[str, list[dict]]:
        network = self.network
        rng = self.rng
        if index == 0:
            return {
                "products": [_product_row(p, self.unit_costs[p.code]) for p in PRODUCTS],
                "suppliers": [_supplier_row(s) for s in network.suppliers],
                "customers": [_customer_row(c) for c in network.customers],
            }
        rows: dict[str, list[dict]] = {}
        if index % 7 == 3:
            # New customers, served from tomorrow on; one existing customer changes phone number.
            added = []
            for _ in range(rng.randint(1, 3)):
                countries = [m for dc in network.dcs for m in dc.markets]
                customer = make_customer(rng, len(network.customers) + 1, rng.choice(countries))
                network.customers.append(customer)
                assign_customer(network.dcs, customer)
                added.append(customer)
            old = network.customers[rng.randrange(len(network.customers) - len(added))]
            changed = Customer(
                old.code,
                old.name,
                old.country,
                old.contact_email,
                f"{old.phone[:-4]}{rng.randint(0, 9999):04d}",
                old.ship_to,
            )
            rows["customers"] = [_customer_row(c) for c in added] + [_customer_row(changed)]
            self.updates.append(
                {"day": day_text, "file": "customers.csv", "new": [c.code for c in added], "changed": [changed.code]}
            )
        if index % 15 == 7:
            changed = []
            for _ in range(rng.randint(1, 2)):
                product = PRODUCTS[rng.randrange(len(PRODUCTS))]
                self.unit_costs[product.code] = round(self.unit_costs[product.code] * rng.uniform(0.95, 1.12), 4)
                changed.append(product)
            rows["products"] = [_product_row(p, self.unit_costs[p.code]) for p in changed]
            self.updates.append({"day": day_text, "file": "products.csv", "changed": [p.code for p in changed]})
        if index == 20:
            number = len(network.suppliers) + 1
            name = "Nordzucker Handel"
            supplier = Supplier(f"SUP-{number:03d}", name, "DE", f"quality@{slug(name)}.example", "dry", "letter")
            network.suppliers.append(supplier)
            network.suppliers_of["RM-SUGAR"].append(supplier)
            rows["suppliers"] = [_supplier_row(supplier)]
            self.updates.append({"day": day_text, "file": "suppliers.csv", "new": [supplier.code]})
        return rows
