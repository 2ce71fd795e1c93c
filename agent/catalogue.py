"""The store's product catalogue, imported from CSV (columns in docs/catalogue.md).

`parse_catalogue` is pure and never raises: bad rows are reported with their line numbers and
reasons while good rows still load. `read_catalogue` is the thin file reader.

>>> loaded = parse_catalogue("product_id,name,product_keys,requires_code,exempt_category,no_code_list,units_per_box\\n"
...                          "XA01,阿莫西林胶囊,8123456|06901234567892,1,,0,24\\n")
>>> loaded.catalogue.get("XA01").units_per_box, loaded.problems
(24, ())
"""

from __future__ import annotations

import csv
import enum
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from agent.errors import AgentError

COLUMNS = ("product_id", "name", "product_keys", "requires_code", "exempt_category", "no_code_list", "units_per_box")
REQUIRED_COLUMNS = ("product_id", "name", "product_keys", "requires_code")
KEY_SEPARATOR = "|"
MAX_FIELD = 200
_TRUE = frozenset({"1", "true", "yes", "y", "是"})
_FALSE = frozenset({"0", "false", "no", "n", "否", ""})


class CatalogueError(AgentError):
    """The catalogue file cannot be read at all (missing, unreadable, not text)."""


class ExemptCategory(enum.Enum):
    """Categories exempt from code collection (DOMAIN §3)."""

    HERBAL_PIECES = "中药饮片"
    FORMULA_GRANULES = "中药配方颗粒"


@dataclass(frozen=True)
class Product:
    """One sellable product (med_list_codg) and how its boxes are coded."""

    product_id: str
    name: str
    product_keys: tuple[str, ...]
    requires_code: bool
    exempt_category: ExemptCategory | None = None
    no_code_list: bool = False
    units_per_box: int = 1

    @property
    def needs_codes(self) -> bool:
        """True when each box sold must carry a scanned traceability code."""
        return self.requires_code and self.exempt_category is None and not self.no_code_list

    def matches(self, product_key: str | None) -> bool:
        """True when a scanned code's product key belongs to this product."""
        return product_key is not None and product_key in self.product_keys


@dataclass(frozen=True)
class RowProblem:
    """A catalogue row that was not loaded, with the CSV line it came from."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass(frozen=True)
class Catalogue:
    """Products by id; read-only."""

    products: Mapping[str, Product] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def of(cls, products: Iterable[Product]) -> Catalogue:
        return cls(MappingProxyType({p.product_id: p for p in products}))

    def get(self, product_id: str) -> Product | None:
        return self.products.get(product_id)

    def __len__(self) -> int:
        return len(self.products)


@dataclass(frozen=True)
class CatalogueLoad:
    """The result of an import: what loaded and what did not."""

    catalogue: Catalogue
    problems: tuple[RowProblem, ...]


def gtin_check_digit_ok(digits: str) -> bool:
    """GS1 mod-10 check over a GTIN-8/12/13/14."""
    body, check = digits[:-1], int(digits[-1])
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def parse_product_key(text: str) -> str:
    """A 7-digit 药品标识码, or a GTIN normalised to 14 digits; raises ValueError saying why not."""
    key = text.strip()
    if not key.isascii() or not key.isdigit():
        raise ValueError(f"expected a product key of digits, got {key[:30]!r}")
    if len(key) == 7:
        if key[0] != "8":
            raise ValueError(f"expected a 7-digit 药品标识码 starting with 8, got {key!r}")
        return key
    if len(key) in (8, 12, 13, 14):
        if not gtin_check_digit_ok(key):
            raise ValueError(f"invalid GTIN check digit in {key!r}")
        return key.zfill(14)
    raise ValueError(f"expected 7 digits (药品标识码) or a GTIN of 8/12/13/14 digits, got {len(key)} digits {key[:30]!r}")


def _flag(row: Mapping[str, str], column: str) -> bool:
    value = (row.get(column) or "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"expected {column} to be 1/0 (true/false, 是/否), got {value[:30]!r}")


def _product(row: Mapping[str, str]) -> Product:
    product_id = (row.get("product_id") or "").strip()
    name = (row.get("name") or "").strip()
    if not product_id:
        raise ValueError("expected a product_id (med_list_codg), got an empty cell")
    if len(product_id) > 64 or not product_id.isprintable():
        raise ValueError(f"expected a product_id of at most 64 printable characters, got {product_id[:30]!r}")
    if not name or len(name) > MAX_FIELD:
        raise ValueError(f"expected a name of 1 to {MAX_FIELD} characters, got {len(name)}")
    keys = tuple(dict.fromkeys(parse_product_key(k) for k in (row.get("product_keys") or "").split(KEY_SEPARATOR)
                               if k.strip()))
    category_text = (row.get("exempt_category") or "").strip()
    try:
        category = ExemptCategory(category_text) if category_text else None
    except ValueError:
        allowed = "、".join(c.value for c in ExemptCategory)
        raise ValueError(f"expected exempt_category empty or one of {allowed}, got {category_text[:30]!r}") from None
    units_text = (row.get("units_per_box") or "").strip() or "1"
    if not units_text.isascii() or not units_text.isdigit() or not 1 <= int(units_text) <= 100_000:
        raise ValueError(f"expected units_per_box a whole number from 1 to 100000, got {units_text[:30]!r}")
    product = Product(product_id=product_id, name=name, product_keys=keys, requires_code=_flag(row, "requires_code"),
                      exempt_category=category, no_code_list=_flag(row, "no_code_list"),
                      units_per_box=int(units_text))
    if product.needs_codes and not keys:
        raise ValueError("expected at least one product key for a product that requires codes, got none")
    return product


def parse_catalogue(text: str) -> CatalogueLoad:
    """Parse catalogue CSV text; never raises. A problem's line is the physical line where its row ends."""
    reader = csv.DictReader(io.StringIO(text, newline=""), restkey="\x00extra")
    problems: list[RowProblem] = []
    products: dict[str, Product] = {}
    try:
        header = reader.fieldnames or []
    except csv.Error as exc:
        return CatalogueLoad(Catalogue(), (RowProblem(1, f"unreadable header: {exc}"),))
    missing = [c for c in REQUIRED_COLUMNS if c not in [h.strip() for h in header]]
    if missing:
        return CatalogueLoad(Catalogue(), (RowProblem(1, f"expected columns {', '.join(missing)} in the header, "
                                                         f"got {', '.join(h[:30] for h in header) or 'none'}"),))
    reader.fieldnames = [h.strip() for h in header]
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(RowProblem(reader.line_num, f"unreadable CSV: {exc}"))
            break  # the csv reader cannot resume after a malformed record
        line = reader.line_num
        if "\x00extra" in row:
            problems.append(RowProblem(line, f"expected {len(reader.fieldnames)} cells, got more"))
            continue
        try:
            product = _product(row)
        except ValueError as exc:
            problems.append(RowProblem(line, str(exc)))
            continue
        if product.product_id in products:
            problems.append(RowProblem(line, f"duplicate product_id {product.product_id!r}: the first row is kept"))
            continue
        products[product.product_id] = product
    return CatalogueLoad(Catalogue.of(products.values()), tuple(problems))


def decode_csv_bytes(data: bytes) -> str:
    """UTF-8 (with or without Excel's BOM), else GB18030 (Excel's default in China)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return data.decode("gb18030")
        except UnicodeDecodeError as exc:
            raise CatalogueError(f"Expected UTF-8 or GB18030 text, got undecodable byte at {exc.start}.") from None


def read_catalogue(path: Path) -> CatalogueLoad:
    """Read and parse a catalogue file; raises CatalogueError only when the file cannot be read."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CatalogueError(f"Expected a readable catalogue CSV at {path}, got: {exc.strerror}") from None
    return parse_catalogue(decode_csv_bytes(data))
