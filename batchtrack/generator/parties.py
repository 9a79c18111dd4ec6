"""Fake but plausible suppliers and customers: names, countries, e-mail addresses, phone numbers.

Addresses use the reserved `.example` domain and 555-style numbers, so nothing here reaches
a real company or person.
"""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass

COUNTRY_DIALLING = {"NL": "+31", "BE": "+32", "DE": "+49", "FR": "+33", "GB": "+44", "DK": "+45", "PL": "+48"}

CITIES = {
    "NL": ("Amsterdam", "Utrecht", "Rotterdam", "Groningen", "Eindhoven", "Zwolle", "Leeuwarden"),
    "BE": ("Antwerpen", "Gent", "Brussel", "Liège", "Brugge"),
    "DE": ("Duisburg", "Köln", "Münster", "Düsseldorf", "Hamburg", "Hannover", "Bremen"),
    "FR": ("Lille", "Paris", "Amiens", "Reims", "Rouen", "Arras"),
    "GB": ("Northampton", "Leicester", "Birmingham", "Coventry", "Nottingham", "Leeds"),
    "DK": ("Aarhus", "Odense", "København"),
    "PL": ("Poznań", "Wrocław", "Łódź"),
}
STREETS = {
    "NL": ("Kerkstraat", "Stationsweg", "Industrieweg", "Havenkade", "Molenlaan"),
    "BE": ("Kerkstraat", "Rue de la Gare", "Nijverheidslaan", "Chaussée de Mons"),
    "DE": ("Hauptstraße", "Bahnhofstraße", "Industriestraße", "Hafenweg", "Lindenallee"),
    "FR": ("Rue de la République", "Avenue Jean Jaurès", "Rue du Port", "Zone Artisanale Nord"),
    "GB": ("High Street", "Station Road", "Mill Lane", "Church Street", "Riverside Way"),
    "DK": ("Østergade", "Havnevej", "Industrivej"),
    "PL": ("ul. Polna", "ul. Przemysłowa", "ul. Kolejowa"),
}

# fmt: off
_CUSTOMER_STEMS = (
    "Greenway", "Bakker", "Van Dijk", "Jansen", "Schmidt", "Müller", "Dupont", "Lefèvre", "Peeters",
    "Smith", "Taylor", "O'Neill's", "Hansen", "Nowak", "Fresh Corner", "Sunrise", "Harbour",
    "Lindenhof", "De Gouden Korenaar", "Le Petit Marché", "Northgate", "Meadow Lane", "Kowalski",
    "Vermeulen", "Becker", "Moreau", "Claes", "Wright", "Jensen", "Rosengarten", "Café Lumière",
    "St. Mary's", "Hof van Holland", "Alpenblick", "Marché Central", "Old Mill", "Blue Door",
)
_CUSTOMER_KINDS = (
    "Supermarkt", "Foods", "Delicatessen", "Catering", "Grocers", "Hospital Kitchen", "Hotel",
    "Cash & Carry", "Bakery", "Wholesale", "Convenience", "Canteen Services", "Market", "Café",
)
# fmt: on
_LEGAL = {"NL": "B.V.", "BE": "BVBA", "DE": "GmbH", "FR": "SARL", "GB": "Ltd", "DK": "ApS", "PL": "Sp. z o.o."}

_SUPPLIER_NAMES = {
    "dairy": ("Frisia Dairy Cooperative", "Hollandse Zuivel", "Milchhof Westfalen", "Laiterie du Nord"),
    "fruit": ("D'Arcy Fruits", "Agrofruct", "Berry Fields", "Vergers de Picardie", "Owoce Polskie"),
    "dry": ("Suikerunie Trading", "Moulins Réunis", "Cacao Handelshaus", "Nordic Ingredients", "Eurostarch"),
    "packaging": ("Pack-It", "Flexfoil Packaging", "Kartonagen Rhein", "Vitale Labels", "PolyCup Europe"),
    "egg": ("Eggpro", "Ovo Benelux", "Landgoed Eieren"),
}
SUPPLIER_COUNTRIES = {"dairy": "NL", "fruit": "PL", "dry": "DE", "packaging": "DE", "egg": "BE"}
# Which kind of supplier delivers which purchased product.
SUPPLIER_KIND_OF = {
    "RM-MILK": "dairy",
    "RM-CREAM": "dairy",
    "RM-SMP": "dairy",
    "RM-BUTTER": "dairy",
    "RM-CULTURE": "dry",
    "RM-STRAW": "fruit",
    "RM-RASP": "fruit",
    "RM-SUGAR": "dry",
    "RM-VANILLA": "dry",
    "RM-FLOUR": "dry",
    "RM-COCOA": "dry",
    "RM-PECTIN": "dry",
    "RM-STARCH": "dry",
    "RM-SALT": "dry",
    "RM-EGG": "egg",
}


@dataclass(frozen=True)
class Supplier:
    code: str
    name: str
    country: str
    contact_email: str
    kind: str
    # How the supplier numbers its own lots; some styles carry characters that need CSV quoting.
    lot_style: str


@dataclass(frozen=True)
class Customer:
    code: str
    name: str
    country: str
    contact_email: str
    phone: str
    ship_to: str


def slug(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "", ascii_name.lower())[:24] or "customer"


def phone_number(rng: random.Random, country: str) -> str:
    return f"{COUNTRY_DIALLING[country]} {rng.randint(10, 99)} 555 {rng.randint(0, 9999):04d}"


def address(rng: random.Random, country: str) -> str:
    city = rng.choice(CITIES[country])
    street = rng.choice(STREETS[country])
    return f"{street} {rng.randint(1, 240)}, {rng.randint(1000, 9999)} {city}, {country}"


# Supplier lot numbering styles; the odd ones go to suppliers of high-volume materials so
# every run has supplier lot codes with an apostrophe, a double quote, a comma and a slash.
LOT_STYLES_ODD = ("apostrophe", "quote", "comma", "slash")
LOT_STYLES_PLAIN = ("letter", "julian", "dashed")


def supplier_lot_code(style: str, number: int, year: int) -> str:
    if style == "apostrophe":
        return f"D'A-{number}"
    if style == "quote":
        return f'B"{number}'
    if style == "comma":
        return f"{number},{number % 7 + 1}"
    if style == "slash":
        return f"LOT/{year}/{number:05d}"
    if style == "letter":
        return f"F{number}"
    if style == "julian":
        return f"{year % 100}{number % 365 + 1:03d}-{number}"
    return f"{number // 100:03d}-{number % 100:02d}-A"


def make_suppliers(rng: random.Random, count: int) -> list[Supplier]:
    kinds = list(_SUPPLIER_NAMES)
    suppliers: list[Supplier] = []
    for index in range(count):
        kind = kinds[index % len(kinds)]
        names = _SUPPLIER_NAMES[kind]
        round_number = index // len(kinds)
        base = names[round_number % len(names)]
        name = base if round_number < len(names) else f"{base} {round_number // len(names) + 1}"
        country = SUPPLIER_COUNTRIES[kind]
        if kind == "fruit" and round_number % 2:
            country = "NL"
        suppliers.append(
            Supplier(
                code=f"SUP-{index + 1:03d}",
                name=name,
                country=country,
                contact_email=f"quality@{slug(name)}.example",
                kind=kind,
                lot_style=LOT_STYLES_PLAIN[rng.randrange(len(LOT_STYLES_PLAIN))],
            )
        )
    # The first supplier of each of four busy kinds numbers its lots with odd characters.
    for style, kind in zip(LOT_STYLES_ODD, ("fruit", "dry", "dairy", "egg"), strict=True):
        position = next(i for i, supplier in enumerate(suppliers) if supplier.kind == kind)
        old = suppliers[position]
        suppliers[position] = Supplier(old.code, old.name, old.country, old.contact_email, old.kind, style)
    return suppliers


def make_customer(rng: random.Random, number: int, country: str) -> Customer:
    stem = rng.choice(_CUSTOMER_STEMS)
    kind = rng.choice(_CUSTOMER_KINDS)
    roll = rng.random()
    if roll < 0.04:
        name = f"{stem}, {rng.choice(_CUSTOMER_STEMS)} & Co"
    elif roll < 0.5:
        name = f"{stem} {kind} {_LEGAL[country]}"
    else:
        name = f"{stem} {kind}"
    return Customer(
        code=f"C{number:06d}",
        name=name,
        country=country,
        contact_email=f"orders.{number}@{slug(stem + kind)}.example",
        phone=phone_number(rng, country),
        ship_to=address(rng, country),
    )
