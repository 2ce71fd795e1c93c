"""Classification vectors for every code kind, and properties that hold for any input."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, strategies as st

from drugtrace.codes import GS, CodeKind, Problem, ScanOptions, classify, classify_bytes, explain

NMPA = "81234567890123456789"
GTIN = "09501101530003"
DM = f"01{GTIN}17261231102025A1{GS}21SER123"


@pytest.mark.parametrize(
    ("raw", "kind", "identity", "product"),
    [
        pytest.param(NMPA, CodeKind.NMPA, NMPA, "8123456", id="nmpa-20-digit"),
        pytest.param(f"]C0{NMPA}", CodeKind.NMPA, NMPA, "8123456", id="nmpa-with-code128-aim-prefix"),
        pytest.param(f"]d2{DM}", CodeKind.GS1, f"(01){GTIN}(21)SER123", GTIN, id="gs1-datamatrix-aim"),
        pytest.param(DM, CodeKind.GS1, f"(01){GTIN}(21)SER123", GTIN, id="gs1-datamatrix-no-aim"),
        pytest.param(f"{GS}{DM}", CodeKind.GS1, f"(01){GTIN}(21)SER123", GTIN, id="gs1-leading-fnc1"),
        pytest.param(f"]C101{GTIN}21ABC{GS}10B1", CodeKind.GS1, f"(01){GTIN}(21)ABC", GTIN, id="gs1-128-serial-first"),
        pytest.param(f"01{GTIN}2112", CodeKind.GS1, f"(01){GTIN}(21)12", GTIN, id="gs1-20-digits-not-nmpa"),
        pytest.param(f"]Q301{GTIN}21Q1", CodeKind.GS1, f"(01){GTIN}(21)Q1", GTIN, id="gs1-qr"),
    ],
)
def test_trace_codes(raw: str, kind: CodeKind, identity: str, product: str) -> None:
    result = classify(raw)
    assert (result.kind, result.identity_key, result.product_key, result.problem) == (kind, identity, product, None)
    assert result.is_trace_code


def test_gs1_fields_are_parsed() -> None:
    result = classify(f"]d2{DM}")
    assert (result.gtin, result.serial, result.batch, result.expiry) == (GTIN, "SER123", "2025A1", dt.date(2026, 12, 31))
    assert result.expired(dt.date(2027, 1, 1)) and not result.expired(dt.date(2026, 12, 31))


@pytest.mark.parametrize(
    ("raw", "kind", "problem", "message"),
    [
        pytest.param("6901234567892", CodeKind.COMMODITY, Problem.COMMODITY_BARCODE,
                     "Expected a traceability code, got the commodity barcode 6901234567892 (GTIN without serial).",
                     id="ean13-69"),
        pytest.param("6901234567891", CodeKind.UNCLASSIFIED, Problem.UNKNOWN_FORMAT,
                     "Expected a valid barcode, got 6901234567891: Invalid GTIN check digit for '6901234567891': "
                     "Expected 2, got 1.", id="ean13-bad-check-digit"),
        pytest.param("71234567890123456789", CodeKind.UNCLASSIFIED, Problem.NMPA_PREFIX,
                     "Expected a 20-digit drug code starting with 8, got one starting with 7.", id="20-digit-not-8"),
        pytest.param("0109501101530001172612311021SER", CodeKind.GS1, Problem.GS1_CHECK_DIGIT,
                     "Invalid GTIN check digit for '09501101530001': Expected 3, got 1.", id="gs1-wrong-check-digit"),
        pytest.param(f"01{GTIN}172612311020250121SER", CodeKind.GS1, Problem.GS1_MISSING_SEPARATOR,
                     "Expected a GS separator after (10) '20250121SER', got none: the scanner drops FNC1 "
                     "(check its GS/FNC1 setting).", id="gs1-missing-separator"),
        pytest.param(f"01{GTIN}17261231", CodeKind.GS1, Problem.GS1_NO_SERIAL,
                     f"Expected a GS1 code with serial (21), got GTIN {GTIN} without serial.", id="gs1-no-serial"),
        pytest.param("", CodeKind.UNCLASSIFIED, Problem.EMPTY, "Expected a scanned code, got empty input.", id="empty"),
        pytest.param("\r\n", CodeKind.UNCLASSIFIED, Problem.EMPTY, "Expected a scanned code, got empty input.",
                     id="only-terminator"),
        pytest.param("8123\x004567", CodeKind.UNCLASSIFIED, Problem.NOT_TEXT,
                     "Expected printable ASCII, got character U+0000 at position 4.", id="nul-byte"),
        pytest.param("hello", CodeKind.UNCLASSIFIED, Problem.UNKNOWN_FORMAT,
                     "Expected a 20-digit drug code or a GS1 code with (01) and (21), got 5 characters 'hello'.",
                     id="text"),
    ],
)
def test_refusals(raw: str, kind: CodeKind, problem: Problem, message: str) -> None:
    result = classify(raw)
    assert result.kind == kind
    assert result.problem is not None and result.problem.code == problem
    assert result.problem.message_en == message
    assert result.problem.message_zh
    assert not result.is_trace_code


def test_commodity_barcode_message_is_the_counter_wording() -> None:
    assert classify("6901234567892").problem.message_zh.startswith("这是商品条码，不是追溯码")


def test_expired_gs1_still_classifies_so_the_workflow_can_decide() -> None:
    result = classify(f"01{GTIN}17200101{GS}21OLD")
    assert result.is_trace_code and result.expired(dt.date(2026, 11, 23))


@pytest.mark.parametrize(
    ("options", "raw"),
    [
        pytest.param(ScanOptions(strip="\r\n"), f"{NMPA}\r\n", id="crlf-terminator"),
        pytest.param(ScanOptions(prefix="STX"), f"STX{NMPA}", id="programmed-prefix"),
        pytest.param(ScanOptions(suffix="\t"), f"{NMPA}\t", id="tab-suffix"),
    ],
)
def test_scanner_framing_comes_from_the_profile(options: ScanOptions, raw: str) -> None:
    assert classify(raw, options).identity_key == NMPA


def test_whitespace_is_not_guessed_away() -> None:
    assert classify(f" {NMPA}").problem is not None


def test_fnc1_substitute_from_profile() -> None:
    raw = f"01{GTIN}10B1~21S9"
    assert classify(raw).identity_key != f"(01){GTIN}(21)S9"
    assert classify(raw, ScanOptions(fnc1=("~",))).identity_key == f"(01){GTIN}(21)S9"


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        pytest.param(b"\xff\xfe\x00garbage", Problem.NOT_TEXT, id="binary"),
        pytest.param("８１２３".encode(), Problem.NOT_TEXT, id="fullwidth-digits-from-ime"),
        pytest.param(b"", Problem.EMPTY, id="no-bytes"),
    ],
)
def test_bytes_refusals(data: bytes, problem: Problem) -> None:
    result = classify_bytes(data)
    assert result.problem is not None and result.problem.code == problem


def test_bytes_trace_code() -> None:
    assert classify_bytes(f"{NMPA}\r\n".encode()).identity_key == NMPA


def test_explain_names_kind_and_problem() -> None:
    rows = {label_en: value for _, label_en, value in explain(classify("6901234567892"))}
    assert "商品条码" in rows["Kind"] and "不是追溯码" in rows["Problem"]


@given(st.text(max_size=80))
def test_classify_never_raises_on_text(raw: str) -> None:
    result = classify(raw)
    assert result.is_trace_code == (result.identity_key is not None and result.problem is None)
    if result.is_trace_code:
        assert result.kind in (CodeKind.NMPA, CodeKind.GS1) and result.product_key


@given(st.binary(max_size=80))
def test_classify_bytes_never_raises(data: bytes) -> None:
    classify_bytes(data)


@given(st.from_regex(r"8[0-9]{19}", fullmatch=True))
def test_every_20_digit_8_code_is_nmpa(raw: str) -> None:
    result = classify(raw)
    assert (result.kind, result.identity_key, result.product_key) == (CodeKind.NMPA, raw, raw[:7])


@given(serial=st.from_regex(r"[0-9A-Za-z]{1,20}", fullmatch=True), batch=st.from_regex(r"[0-9A-Z]{1,20}", fullmatch=True))
def test_gs1_roundtrip_of_serial_and_batch(serial: str, batch: str) -> None:
    result = classify(f"]d201{GTIN}10{batch}{GS}21{serial}")
    assert (result.identity_key, result.batch) == (f"(01){GTIN}(21){serial}", batch)
