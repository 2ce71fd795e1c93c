"""The product catalogue: CSV import that reports bad rows by line and keeps the good ones."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.catalogue import (
    COLUMNS, CatalogueError, ExemptCategory, Product, RowProblem, parse_catalogue, parse_product_key, read_catalogue,
)

HEADER = ",".join(COLUMNS)


def test_loads_good_rows_and_reports_bad_ones_by_line() -> None:
    text = "\n".join([
        HEADER,
        "XA01,阿莫西林胶囊,8123456|6901234567892,1,,0,24",
        "XA02,当归,,0,中药饮片,0,1",
        "XA03,坏的标识码,1234567,1,,0,1",
        "XA04,未知类别,8123457,1,西药,0,1",
        "XA01,重复,8123458,1,,0,1",
        "XA05,无码库,,1,,1,",
        "XA06,缺码,,1,,0,1",
        "XA07,拆零数,8123459,1,,0,zero",
    ]) + "\n"
    loaded = parse_catalogue(text)
    assert loaded.catalogue.get("XA01") == Product(
        product_id="XA01", name="阿莫西林胶囊", product_keys=("8123456", "06901234567892"), requires_code=True,
        units_per_box=24)
    herbal = loaded.catalogue.get("XA02")
    assert herbal is not None and herbal.exempt_category is ExemptCategory.HERBAL_PIECES and not herbal.needs_codes
    no_code = loaded.catalogue.get("XA05")
    assert no_code is not None and no_code.no_code_list and not no_code.needs_codes
    assert sorted(loaded.catalogue.products) == ["XA01", "XA02", "XA05"]
    assert [p.line for p in loaded.problems] == [4, 5, 6, 8, 9]
    reasons = [p.reason for p in loaded.problems]
    assert reasons[0] == "expected a 7-digit 药品标识码 starting with 8, got '1234567'"
    assert "中药饮片" in reasons[1] and "'西药'" in reasons[1]
    assert reasons[2] == "duplicate product_id 'XA01': the first row is kept"
    assert reasons[3] == "expected at least one product key for a product that requires codes, got none"
    assert reasons[4] == "expected units_per_box a whole number from 1 to 100000, got 'zero'"


def test_missing_header_columns_say_which() -> None:
    loaded = parse_catalogue("id,name\nXA01,x\n")
    assert len(loaded.catalogue) == 0
    assert loaded.problems == (RowProblem(1, "expected columns product_id, product_keys, requires_code in the header, "
                                             "got id, name"),)


@pytest.mark.parametrize(("text", "expected"), [
    pytest.param("8123456", "8123456", id="nmpa-7"),
    pytest.param("6901234567892", "06901234567892", id="ean13-padded"),
    pytest.param(" 09501101530003 ", "09501101530003", id="gtin14-trimmed"),
])
def test_product_keys_normalise(text: str, expected: str) -> None:
    assert parse_product_key(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    pytest.param("6901234567893", "invalid GTIN check digit in '6901234567893'", id="check-digit"),
    pytest.param("81234", "expected 7 digits (药品标识码) or a GTIN of 8/12/13/14 digits, got 5 digits '81234'",
                 id="length"),
    pytest.param("81x3456", "expected a product key of digits, got '81x3456'", id="letters"),
])
def test_bad_product_keys_say_why(text: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_product_key(text)
    assert str(info.value) == message


def test_reads_gb18030_files_from_excel(tmp_path: Path) -> None:
    path = tmp_path / "catalogue.csv"
    path.write_bytes((HEADER + "\nXA01,阿莫西林胶囊,8123456,是,,否,24\n").encode("gb18030"))
    loaded = read_catalogue(path)
    assert loaded.problems == () and loaded.catalogue.get("XA01").name == "阿莫西林胶囊"  # type: ignore[union-attr]


def test_reads_utf8_with_bom(tmp_path: Path) -> None:
    path = tmp_path / "catalogue.csv"
    path.write_bytes(("\ufeff" + HEADER + "\nXA01,阿莫西林胶囊,8123456,1,,0,24\n").encode("utf-8"))
    assert read_catalogue(path).catalogue.get("XA01") is not None


def test_missing_file_is_a_named_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="Expected a readable catalogue CSV at .*missing.csv"):
        read_catalogue(tmp_path / "missing.csv")


@given(st.text())
def test_parser_never_raises_on_arbitrary_text(text: str) -> None:
    loaded = parse_catalogue(text)
    assert all(p.line >= 1 for p in loaded.problems)


@given(st.lists(st.lists(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=12),
                         min_size=0, max_size=9), max_size=8))
def test_parser_never_raises_on_arbitrary_rows_under_a_good_header(rows: list[list[str]]) -> None:
    body = "\n".join(",".join(cells) for cells in rows)
    loaded = parse_catalogue(HEADER + "\n" + body)
    for product in loaded.catalogue.products.values():
        assert product.product_id and product.name and product.units_per_box >= 1
