"""The demo county's product catalogue and the codes printed on its boxes (pure).

Products carry either a 20-digit NMPA code (码上放心, product key = its first 7 digits) or a GS1
DataMatrix (UDI of a consumable: GTIN-14 + expiry + batch + serial). `catalogue_csv` writes the
catalogue every demo agent loads (columns in docs/catalogue.md).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

GS = "\x1d"
CATALOGUE_COLUMNS = "product_id,name,product_keys,requires_code,exempt_category,no_code_list,units_per_box"


def gtin_check_digit(body: str) -> str:
    """The GS1 check digit for the first 13 (or 12, 7) digits of a GTIN.

    >>> gtin_check_digit("690123456789")
    '2'
    """
    total = sum(int(digit) * (3 if index % 2 == 0 else 1) for index, digit in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


@dataclass(frozen=True)
class Product:
    """One product of the demo catalogue; `key` is the 7-digit NMPA product key or a GTIN-14."""

    product_id: str  # med_list_codg
    name: str
    key: str
    units_per_box: int
    price_fen: int  # per box
    exempt: str = ""  # an exempt category (中药饮片): no code needed

    @property
    def gs1(self) -> bool:
        return len(self.key) == 14

    def code(self, serial: int, expiry: dt.date, batch: str) -> str:
        """The text a scanner sends for this product's box number `serial` (no terminator)."""
        if self.gs1:
            return f"01{self.key}17{expiry:%y%m%d}10{batch}{GS}21{serial:010d}"
        return f"{self.key}{serial:013d}"


def _gtin(body13: str) -> str:
    return body13 + gtin_check_digit(body13)


AMOX = Product("XJ01CAA040A001010100001", "阿莫西林胶囊 0.25g×24粒", "8123456", 24, 1850)
IBU = Product("XN02BEB006A010010100002", "布洛芬缓释胶囊 0.3g×20粒", "8234567", 20, 1620)
METF = Product("XA10BAA002A001010100003", "盐酸二甲双胍片 0.5g×60片", "8345678", 60, 2380)
AMLO = Product("XC08CAA001A001010100004", "苯磺酸氨氯地平片 5mg×28片", "8456789", 28, 3150)
CEFX = Product("XJ01DDA006A001010100005", "头孢克肟分散片 0.1g×10片", "8567890", 10, 2990)
NEEDLE = Product("C1405010000000000000006", "胰岛素笔用针头 32G×4mm 7支", _gtin("0695123450001"), 7, 4200)
HERB = Product("T000100010000000000007", "当归（中药饮片）", "", 1000, 12, exempt="中药饮片")

PRODUCTS: tuple[Product, ...] = (AMOX, IBU, METF, AMLO, CEFX, NEEDLE, HERB)
CODED: tuple[Product, ...] = tuple(p for p in PRODUCTS if not p.exempt)


def catalogue_csv(products: tuple[Product, ...] = PRODUCTS) -> str:
    rows = [CATALOGUE_COLUMNS]
    for p in products:
        rows.append(f"{p.product_id},{p.name},{p.key},{0 if p.exempt else 1},{p.exempt},0,{p.units_per_box}")
    return "\n".join(rows) + "\n"


def commodity_barcode(body12: str) -> str:
    """An EAN-13 commodity barcode (69… in China) with a valid check digit: not a traceability code."""
    return body12 + gtin_check_digit(body12)
