"""Decoder adapters (zxing-cpp, pyzbar) and the plausibility check every decode passes.

Decoders return the raw text a scanner would send: a 码上放心 code as its 20 digits, a GS1 message
as its AIM symbology identifier (``]d2`` DataMatrix, ``]C1`` GS1-128) followed by the element
strings with GS (0x1D) separators, so ``drugtrace.codes.classify`` derives the same identity key
as from a scanner with AIM prefixes enabled. Text that cannot be a traceability code is rejected
here rather than reported: a camera must never invent a code.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from agent.camera.errors import DetectorUnavailable

__all__ = [
    "Decoded",
    "Symbology",
    "PyzbarDecoder",
    "ZxingDecoder",
    "plausible",
    "gtin_valid",
    "code128_modules",
]

GS = "\x1d"
_NMPA = re.compile(r"8\d{19}")
_GS1_START = re.compile(r"01(\d{14})")


class Symbology(enum.Enum):
    """Symbologies the camera reads."""

    CODE128 = "code128"
    DATAMATRIX = "datamatrix"


@dataclass(frozen=True)
class Decoded:
    """One decoded symbol: raw text, symbology, its centre and its length along the reading
    direction, in pixels of the image it was read from."""

    text: str
    symbology: Symbology
    x: float = 0.0
    y: float = 0.0
    length: float = 0.0


def gtin_valid(gtin: str) -> bool:
    """GS1 mod-10 check of a GTIN-14.

    >>> gtin_valid("06901234567892"), gtin_valid("06901234567893")
    (True, False)
    """
    if len(gtin) != 14 or not gtin.isdigit():
        return False
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(gtin[:-1])))
    return (10 - total % 10) % 10 == int(gtin[-1])


def plausible(text: str) -> bool:
    """True when ``text`` can be a traceability code: 20 digits starting with 8, or GS1 with a valid (01).

    >>> plausible("81234567890123456789"), plausible("8123456789012345678"), plausible("6901234567892")
    (True, False, False)
    >>> plausible("]d2010690123456789221SER1")
    True
    """
    if _NMPA.fullmatch(text):
        return True
    body = text[3:] if text.startswith(("]d2", "]C1")) else None
    if body is None:
        return False
    match = _GS1_START.match(body)
    return match is not None and gtin_valid(match.group(1)) and all(" " <= c <= "~" or c == GS for c in body)


def code128_modules(text: str) -> int:
    """Modules in a Code128 symbol for ``text`` (without quiet zones), assuming optimal encoding.

    >>> code128_modules("81234567890123456789")
    145
    """
    body = text[3:] if text.startswith("]C1") else text
    chars = 1 if text.startswith("]C1") else 0  # FNC1
    run = 0
    for ch in body + "\0":
        if ch.isdigit():
            run += 1
            continue
        chars += run // 2 + run % 2 + (ch != "\0")
        run = 0
    return 11 * chars + 35


def _aim_text(text: str, symbology: Symbology, gs1: bool) -> str:
    if not gs1:
        return text
    return ("]d2" if symbology is Symbology.DATAMATRIX else "]C1") + text.lstrip(GS)


class ZxingDecoder:
    """zxing-cpp on a grey image, restricted to the given symbologies."""

    name = "zxing"

    def __init__(self, symbologies: tuple[Symbology, ...] = (Symbology.CODE128, Symbology.DATAMATRIX),
                 try_rotate: bool = True, try_downscale: bool = True, global_binarizer: bool = False) -> None:
        try:
            import zxingcpp
        except ImportError as exc:  # pragma: no cover - zxing-cpp is a hard dependency
            raise DetectorUnavailable(f"Expected the zxing-cpp package, got: {exc}") from exc
        self._zx = zxingcpp
        mapping = {Symbology.CODE128: zxingcpp.BarcodeFormat.Code128,
                   Symbology.DATAMATRIX: zxingcpp.BarcodeFormat.DataMatrix}
        self._formats = [mapping[s] for s in symbologies]
        self._try_rotate = try_rotate
        self._try_downscale = try_downscale
        # a crop is small enough for one global threshold; the local one suits whole frames
        self._binarizer = zxingcpp.Binarizer.GlobalHistogram if global_binarizer else zxingcpp.Binarizer.LocalAverage

    def read(self, gray: np.ndarray, formats: tuple[Symbology, ...] | None = None) -> list[Decoded]:
        """Every symbol found, unvalidated; ``formats`` narrows the constructor's set."""
        zx = self._zx
        wanted = self._formats if formats is None else [
            f for f in self._formats if _symbology_of(zx, f) in formats]
        if not wanted:
            return []
        out: list[Decoded] = []
        for r in zx.read_barcodes(gray, formats=wanted, try_rotate=self._try_rotate,
                                  try_downscale=self._try_downscale, binarizer=self._binarizer,
                                  text_mode=zx.TextMode.Plain):
            symbology = _symbology_of(zx, r.format)
            pos = r.position
            x = (pos.top_left.x + pos.top_right.x + pos.bottom_left.x + pos.bottom_right.x) / 4
            y = (pos.top_left.y + pos.top_right.y + pos.bottom_left.y + pos.bottom_right.y) / 4
            gs1 = r.content_type == zx.ContentType.GS1
            length = max(abs(pos.top_right.x - pos.top_left.x), abs(pos.top_right.y - pos.top_left.y))
            out.append(Decoded(_aim_text(r.text, symbology, gs1), symbology, x, y, float(length)))
        return out

    def decode(self, gray: np.ndarray) -> list[Decoded]:
        """Plausible symbols only."""
        return [d for d in self.read(gray) if plausible(d.text)]


def _symbology_of(zx: Any, fmt: object) -> Symbology:
    return Symbology.DATAMATRIX if fmt == zx.BarcodeFormat.DataMatrix else Symbology.CODE128


class PyzbarDecoder:
    """ZBar through pyzbar on a grey image: Code128 only (ZBar has no DataMatrix reader)."""

    name = "pyzbar"

    def __init__(self) -> None:
        try:
            from pyzbar import pyzbar
        except (ImportError, OSError) as exc:
            raise DetectorUnavailable(f"Expected pyzbar with the libzbar0 system library, got: {exc}") from exc
        self._pyzbar = pyzbar
        self._symbols = [pyzbar.ZBarSymbol.CODE128]

    def read(self, gray: np.ndarray) -> list[Decoded]:
        """Every Code128 found, unvalidated."""
        out: list[Decoded] = []
        for r in self._pyzbar.decode(np.ascontiguousarray(gray), symbols=self._symbols):
            text = r.data.decode("latin-1")
            match = _GS1_START.match(text.lstrip(GS))
            gs1 = match is not None and gtin_valid(match.group(1)) and not _NMPA.fullmatch(text)
            x = r.rect.left + r.rect.width / 2
            y = r.rect.top + r.rect.height / 2
            length = float(max(r.rect.width, r.rect.height))
            out.append(Decoded(_aim_text(text, Symbology.CODE128, gs1), Symbology.CODE128, x, y, length))
        return out

    def decode(self, gray: np.ndarray) -> list[Decoded]:
        """Plausible symbols only."""
        return [d for d in self.read(gray) if plausible(d.text)]
