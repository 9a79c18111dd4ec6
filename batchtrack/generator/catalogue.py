"""The product catalogue of the sample plant network: what is bought, made and sold, and from what.

Two product families share raw materials (sugar, cream, fruit), so one bad fruit supplier
reaches both dairy cups and bakery tarts, as it would in a real recall.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Product:
    code: str
    description: str
    category: str  # raw, intermediate, finished, packaging
    base_unit: str  # kg, L, ea
    shelf_life_days: int
    unit_cost: float
    # Inputs per one base unit of output: (input product code, input base units).
    bill_of_materials: tuple[tuple[str, float], ...] = ()
    # Typical batch size in base units (made products only).
    batch_size: float = 0.0
    # Share of what reaches a DC that customers order; below 1 some stock ages out.
    demand_factor: float = 1.0

    @property
    def whole_units(self) -> bool:
        return self.base_unit == "ea"

    @property
    def perishable(self) -> bool:
        return self.shelf_life_days <= 30


def _raw(code, description, unit, shelf, cost):
    return Product(code, description, "raw", unit, shelf, cost)


def _pack(code, description, cost):
    return Product(code, description, "packaging", "ea", 730, cost)


# fmt: off
RAW_MATERIALS = (
    _raw("RM-MILK", "Whole milk, chilled, 3.5% fat", "L", 10, 0.46),
    _raw("RM-CREAM", "Cream 35% fat, chilled", "L", 14, 2.85),
    _raw("RM-SMP", "Skimmed milk powder", "kg", 365, 3.10),
    _raw("RM-SUGAR", "Sugar, white, crystalline", "kg", 720, 0.84),
    _raw("RM-STRAW", "Strawberries, fresh, hulled", "kg", 12, 3.40),
    _raw("RM-RASP", "Raspberries, fresh", "kg", 10, 6.20),
    _raw("RM-VANILLA", "Vanilla extract, natural", "L", 540, 48.00),
    _raw("RM-CULTURE", "Yogurt starter culture, frozen", "kg", 180, 95.00),
    _raw("RM-FLOUR", "Wheat flour T55", "kg", 240, 0.55),
    _raw("RM-BUTTER", "Butter, unsalted, 82% fat", "kg", 60, 6.90),
    _raw("RM-EGG", "Liquid whole egg, pasteurised", "L", 18, 2.60),
    _raw("RM-COCOA", "Cocoa powder 22/24", "kg", 540, 7.80),
    _raw("RM-PECTIN", "Pectin, apple, high methoxyl", "kg", 720, 14.20),
    _raw("RM-STARCH", "Modified maize starch", "kg", 540, 1.60),
    _raw("RM-SALT", "Salt, fine", "kg", 1095, 0.30),
)

PACKAGING = (
    _pack("PK-CUP150", "Cup PP 150 ml, printed", 0.035),
    _pack("PK-TUB500", "Tub PP 500 ml, printed", 0.081),
    _pack("PK-LID75", "Lid foil 75 mm, peelable", 0.012),
    _pack("PK-LID95", "Lid PP 95 mm, snap-on", 0.021),
    _pack("PK-TRAY12", "Carton tray for 12 cups", 0.180),
    _pack("PK-BOX", "Cake box, printed", 0.220),
    _pack("PK-FILM", "Flow-wrap film, one pack", 0.010),
    _pack("PK-LABEL", "Label, printed, with batch field", 0.004),
)

INTERMEDIATES = (
    Product(
        "IM-YOGBASE", "Yogurt base, fermented", "intermediate", "kg", 7, 0.92,
        (("RM-MILK", 0.96), ("RM-SMP", 0.03), ("RM-CULTURE", 0.0004)), 2400.0,
    ),
    Product(
        "IM-CREAMBASE", "Dessert cream base", "intermediate", "kg", 5, 1.95,
        (("RM-CREAM", 0.45), ("RM-MILK", 0.42), ("RM-SUGAR", 0.09), ("RM-STARCH", 0.03), ("RM-VANILLA", 0.002)),
        1500.0,
    ),
    Product(
        "IM-STRAWPREP", "Strawberry fruit preparation", "intermediate", "kg", 14, 3.10,
        (("RM-STRAW", 0.65), ("RM-SUGAR", 0.33), ("RM-PECTIN", 0.015)), 600.0,
    ),
    Product(
        "IM-RASPPREP", "Raspberry fruit preparation", "intermediate", "kg", 14, 4.90,
        (("RM-RASP", 0.65), ("RM-SUGAR", 0.33), ("RM-PECTIN", 0.015)), 400.0,
    ),
    Product(
        "IM-CHOCSAUCE", "Chocolate sauce", "intermediate", "kg", 21, 3.60,
        (("RM-COCOA", 0.18), ("RM-SUGAR", 0.40), ("RM-CREAM", 0.40)), 500.0,
    ),
    Product(
        "IM-DOUGH", "Sweet shortcrust dough", "intermediate", "kg", 3, 2.70,
        (("RM-FLOUR", 0.55), ("RM-BUTTER", 0.26), ("RM-SUGAR", 0.12), ("RM-EGG", 0.08), ("RM-SALT", 0.005)),
        900.0,
    ),
    Product(
        "IM-CUSTARD", "Custard filling", "intermediate", "kg", 4, 1.70,
        (("RM-MILK", 0.74), ("RM-EGG", 0.12), ("RM-SUGAR", 0.10), ("RM-STARCH", 0.04), ("RM-VANILLA", 0.003)),
        800.0,
    ),
    Product(
        "IM-SPONGE", "Sponge batter", "intermediate", "kg", 2, 1.60,
        (("RM-FLOUR", 0.30), ("RM-EGG", 0.34), ("RM-SUGAR", 0.30), ("RM-BUTTER", 0.06)), 700.0,
    ),
)

_CUP = (("PK-CUP150", 1.0), ("PK-LID75", 1.0), ("PK-TRAY12", 1 / 12))
_TUB = (("PK-TUB500", 1.0), ("PK-LID95", 1.0), ("PK-LABEL", 1.0))
_BOX = (("PK-BOX", 1.0), ("PK-LABEL", 1.0))
_WRAP = (("PK-FILM", 1.0), ("PK-LABEL", 1.0))

FINISHED_GOODS = (
    Product(
        "FG-YOG-STR150", "Strawberry yogurt 150 g", "finished", "ea", 28, 0.42,
        (("IM-YOGBASE", 0.125), ("IM-STRAWPREP", 0.025), *_CUP), 6000.0, 0.97,
    ),
    Product(
        "FG-YOG-RSP150", "Raspberry yogurt 150 g", "finished", "ea", 28, 0.47,
        (("IM-YOGBASE", 0.125), ("IM-RASPPREP", 0.025), *_CUP), 4000.0, 0.86,
    ),
    Product(
        "FG-YOG-NAT150", "Natural yogurt 150 g", "finished", "ea", 30, 0.31,
        (("IM-YOGBASE", 0.150), *_CUP), 6000.0, 1.04,
    ),
    Product(
        "FG-YOG-NAT500", "Natural yogurt 500 g", "finished", "ea", 35, 0.82,
        (("IM-YOGBASE", 0.500), *_TUB), 2400.0, 0.93,
    ),
    Product(
        "FG-DES-VAN125", "Vanilla cream dessert 125 g", "finished", "ea", 40, 0.44,
        (("IM-CREAMBASE", 0.125), *_CUP), 4800.0, 0.90,
    ),
    Product(
        "FG-DES-CHO125", "Chocolate cream dessert 125 g", "finished", "ea", 40, 0.52,
        (("IM-CREAMBASE", 0.105), ("IM-CHOCSAUCE", 0.020), *_CUP), 4800.0, 1.02,
    ),
    Product(
        "FG-DES-STC150", "Strawberries and cream 150 g", "finished", "ea", 21, 0.69,
        (("IM-CREAMBASE", 0.100), ("IM-STRAWPREP", 0.050), *_CUP), 3000.0, 0.80,
    ),
    Product(
        "FG-TRT-STR4", "Strawberry custard tart, 4 pack", "finished", "ea", 21, 2.10,
        (("IM-DOUGH", 0.200), ("IM-CUSTARD", 0.150), ("IM-STRAWPREP", 0.080), *_BOX), 1200.0, 0.95,
    ),
    Product(
        "FG-TRT-RSP4", "Raspberry custard tart, 4 pack", "finished", "ea", 21, 2.45,
        (("IM-DOUGH", 0.200), ("IM-CUSTARD", 0.150), ("IM-RASPPREP", 0.080), *_BOX), 900.0, 0.84,
    ),
    Product(
        "FG-ECL-CHO6", "Chocolate eclair, 6 pack", "finished", "ea", 25, 2.30,
        (("IM-SPONGE", 0.150), ("IM-CUSTARD", 0.200), ("IM-CHOCSAUCE", 0.050), *_WRAP), 1500.0, 1.00,
    ),
    Product(
        "FG-CAK-VAN500", "Vanilla sponge cake 500 g", "finished", "ea", 45, 1.65,
        (("IM-SPONGE", 0.400), ("IM-CUSTARD", 0.100), *_BOX), 1000.0, 0.92,
    ),
    Product(
        "FG-CAK-CHO500", "Chocolate sponge cake 500 g", "finished", "ea", 45, 1.85,
        (("IM-SPONGE", 0.350), ("IM-CHOCSAUCE", 0.150), *_BOX), 1000.0, 1.05,
    ),
)

PRODUCTS: tuple[Product, ...] = (*RAW_MATERIALS, *PACKAGING, *INTERMEDIATES, *FINISHED_GOODS)
PRODUCTS_BY_CODE: dict[str, Product] = {product.code: product for product in PRODUCTS}

# What a plant of each family makes on its finished lines (one tuple per line pattern).
FAMILY_LINES: dict[str, tuple[tuple[str, ...], ...]] = {
    "dairy": (
        ("FG-YOG-STR150", "FG-YOG-RSP150", "FG-YOG-NAT150"),
        ("FG-YOG-NAT500", "FG-YOG-NAT150"),
        ("FG-DES-VAN125", "FG-DES-CHO125", "FG-DES-STC150"),
        ("FG-YOG-STR150", "FG-DES-STC150"),
    ),
    "bakery": (
        ("FG-TRT-STR4", "FG-TRT-RSP4"),
        ("FG-ECL-CHO6", "FG-CAK-VAN500"),
        ("FG-CAK-CHO500", "FG-CAK-VAN500"),
        ("FG-TRT-STR4", "FG-ECL-CHO6"),
    ),
}

# Raw materials the bad supplier delivers (fresh fruit reaches both families).
BAD_SUPPLIER_MATERIALS = ("RM-STRAW", "RM-RASP")

# QC checks: (check_code, sample size range, base defect probability, limit for a pass).
CHECKS: dict[str, tuple[tuple[int, int], float, float]] = {
    "MICRO": ((5, 10), 0.0015, 0.0),
    "FOREIGN_BODY": ((200, 400), 0.0004, 0.005),
    "WEIGHT": ((20, 50), 0.004, 0.05),
    "SEAL": ((50, 200), 0.002, 0.02),
    "LABEL": ((50, 100), 0.003, 0.03),
}
# fmt: on
INTERMEDIATE_CHECKS = ("MICRO", "FOREIGN_BODY")
FINISHED_CHECKS = ("MICRO", "FOREIGN_BODY", "WEIGHT", "SEAL", "LABEL")
