"""Decoder adapters and the plausibility check."""

from __future__ import annotations

import random

import cv2
import numpy as np
import pytest
import zxingcpp

from agent.camera import synth
from agent.camera.decoders import PyzbarDecoder, Symbology, ZxingDecoder, code128_modules, gtin_valid, plausible

GS = "\x1d"


@pytest.mark.parametrize(("text", "expected"), [
    pytest.param("81234567890123456789", True, id="nmpa-20"),
    pytest.param("8123456789012345678", False, id="nmpa-19-digits"),
    pytest.param("812345678901234567890", False, id="nmpa-21-digits"),
    pytest.param("91234567890123456789", False, id="20-digits-not-8"),
    pytest.param("6901234567892", False, id="ean13-commodity"),
    pytest.param("]d20106901234567892" + "21SER1", True, id="gs1-datamatrix"),
    pytest.param("]C10106901234567892" + "10AB" + GS + "21SER1", True, id="gs1-128-with-gs"),
    pytest.param("]d20106901234567893" + "21SER1", False, id="gs1-bad-check-digit"),
    pytest.param("0106901234567892" + "21SER1", False, id="gs1-without-aim-prefix"),
    pytest.param("]d2" + "10AB", False, id="gs1-without-01"),
    pytest.param("]d20106901234567892" + "21SER\n", False, id="gs1-control-character"),
    pytest.param("", False, id="empty"),
])
def test_plausible(text: str, expected: bool) -> None:
    assert plausible(text) is expected


def test_gtin_check_digit() -> None:
    assert gtin_valid("06901234567892")
    assert not gtin_valid("06901234567890")
    assert not gtin_valid("0690123456789")


@pytest.mark.parametrize("text", ["81234567890123456789", "80000000000000000001", "89999999999999999999"])
def test_code128_modules_match_the_encoder(text: str) -> None:
    symbol = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.Code128)
    width = np.asarray(symbol.to_image(scale=1, add_quiet_zones=False)).shape[1]
    assert code128_modules(text) == width


def test_zxing_keeps_gs_separators_and_aim_prefix_for_gs1_datamatrix() -> None:
    hri, raw = synth.gs1_code(random.Random(3))
    image = cv2.copyMakeBorder(synth.datamatrix_patch(hri, 6), 30, 30, 30, 30, cv2.BORDER_CONSTANT, value=255)
    [hit] = ZxingDecoder().decode(image)
    assert hit.symbology is Symbology.DATAMATRIX
    assert hit.text == "]d2" + raw
    assert GS in hit.text


def test_gs1_datamatrix_round_trips_to_the_identity_key() -> None:
    codes = pytest.importorskip("drugtrace.codes")
    hri, raw = synth.gs1_code(random.Random(4))
    image = cv2.copyMakeBorder(synth.datamatrix_patch(hri, 6), 30, 30, 30, 30, cv2.BORDER_CONSTANT, value=255)
    [hit] = ZxingDecoder().decode(image)
    result = codes.classify(hit.text)
    gtin = raw[2:16]
    serial = raw.split(GS + "21")[1]
    assert result.problem is None
    assert result.identity_key == f"(01){gtin}(21){serial}"


def test_code128_round_trips_to_the_identity_key() -> None:
    codes = pytest.importorskip("drugtrace.codes")
    text = synth.nmpa_code(random.Random(5))
    image = cv2.copyMakeBorder(synth.code128_patch(text), 20, 20, 20, 20, cv2.BORDER_CONSTANT, value=255)
    hits = ZxingDecoder().decode(image)
    assert [h.text for h in hits] == [text]
    assert codes.classify(hits[0].text).identity_key == text


def test_pyzbar_reads_code128_but_not_datamatrix() -> None:
    rng = random.Random(6)
    text = synth.nmpa_code(rng)
    bar = cv2.copyMakeBorder(synth.code128_patch(text), 20, 20, 20, 20, cv2.BORDER_CONSTANT, value=255)
    hri, _ = synth.gs1_code(rng)
    dm = cv2.copyMakeBorder(synth.datamatrix_patch(hri, 6), 30, 30, 30, 30, cv2.BORDER_CONSTANT, value=255)
    assert [h.text for h in PyzbarDecoder().decode(bar)] == [text]
    assert PyzbarDecoder().decode(dm) == []


def test_decoders_drop_implausible_text() -> None:
    commodity = zxingcpp.create_barcode("6901234567892", zxingcpp.BarcodeFormat.Code128)
    image = cv2.copyMakeBorder(np.asarray(commodity.to_image(scale=3)), 20, 20, 20, 20,
                               cv2.BORDER_CONSTANT, value=255)
    assert [h.text for h in ZxingDecoder().read(image)] == ["6901234567892"]
    assert ZxingDecoder().decode(image) == []
    assert PyzbarDecoder().decode(image) == []
