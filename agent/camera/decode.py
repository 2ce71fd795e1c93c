"""The decode pipeline: locate candidate regions, decode upright crops, validate.

Measured on the generated hard set (see docs/camera.md): zxing-cpp alone misses tilted Code128
and half-scale symbols; pyzbar alone misses tilted Code128 and every DataMatrix. Here each
region found by :mod:`agent.camera.locate` is decoded with the cheapest reader that can succeed:

* linear regions: cut upright, zxing-cpp (Code128 only, no rotation search); if nothing, or if the
  symbol has fewer than ``min_module_px`` pixels per module, the same crop at twice the size through
  zxing-cpp and pyzbar. A low-resolution read is kept only when two readers agree: Code128's
  mod-103 check alone let a 1.5 px/module misread through in testing;
* square regions: zxing-cpp DataMatrix on an axis-aligned crop (it reads any angle), first with a
  global threshold (the crop is small), then with its local one, then rescaled;
* optionally, every Nth frame, a full-frame zxing-cpp pass as a safety net.

Every decode passes :func:`agent.camera.decoders.plausible`; what fails it is counted, not reported.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import cv2
import numpy as np

from agent.camera.decoders import Decoded, PyzbarDecoder, Symbology, ZxingDecoder, code128_modules, plausible
from agent.camera.errors import DetectorUnavailable
from agent.camera.locate import LocateOptions, Region, find_regions, square_crop, upright_crop

__all__ = ["PipelineOptions", "DecodePipeline", "FrameDecode"]


@dataclass(frozen=True)
class PipelineOptions:
    """Which symbologies to read and how hard to try."""

    code128: bool = True
    datamatrix: bool = True
    pyzbar_fallback: bool = True
    full_frame_every: int = 0      # full-frame zxing pass every N frames; 0 = never
    upscale_below: int = 260       # retry 2D crops smaller than this (pixels) at 1.5x
    min_module_px: float = 2.0     # a Code128 read below this many pixels per module needs a second reader
    min_bar_edges: int = 40        # an unread linear region gets the slower attempts only with this many bar edges
    locate: LocateOptions = field(default_factory=LocateOptions)


@dataclass(frozen=True)
class FrameDecode:
    """What one frame yielded: accepted codes (unique texts) and how many decodes were rejected."""

    codes: tuple[Decoded, ...]
    rejected: int
    regions: int


class DecodePipeline:
    """Region-based decoding of one frame at a time; holds only a frame counter."""

    name = "pipeline"

    def __init__(self, options: PipelineOptions = PipelineOptions()) -> None:
        self.options = options
        wanted = tuple(s for s, on in ((Symbology.CODE128, options.code128),
                                       (Symbology.DATAMATRIX, options.datamatrix)) if on)
        self._crop_reader = ZxingDecoder(wanted, try_rotate=False, try_downscale=False)
        self._zoom_reader = ZxingDecoder(wanted, try_rotate=False, try_downscale=True)
        self._dm_reader = ZxingDecoder((Symbology.DATAMATRIX,), try_rotate=True, try_downscale=False)
        self._dm_global = ZxingDecoder((Symbology.DATAMATRIX,), try_rotate=True, try_downscale=False,
                                       global_binarizer=True)
        self._frame_reader = ZxingDecoder(wanted, try_rotate=True, try_downscale=True)
        self._pyzbar: PyzbarDecoder | None = None
        if options.pyzbar_fallback and options.code128:
            try:
                self._pyzbar = PyzbarDecoder()
            except DetectorUnavailable:
                self._pyzbar = None
        self._frames = 0
        plain, zoomed = self._crop_reader, self._zoom_reader
        attempts: list[tuple[float, ZxingDecoder | PyzbarDecoder]] = [(1.0, plain), (2.0, zoomed)]
        if self._pyzbar is not None:
            attempts += [(2.0, self._pyzbar), (1.5, plain), (1.0, self._pyzbar)]
        else:
            attempts += [(1.5, plain)]
        attempts.append((3.0, zoomed))
        self._attempts = attempts

    @property
    def pyzbar_available(self) -> bool:
        """False when the pyzbar fallback was asked for but libzbar is missing."""
        return self._pyzbar is not None

    def decode(self, image: np.ndarray) -> list[Decoded]:
        """Accepted codes in ``image`` (grey or BGR), one per distinct text."""
        return list(self.analyse(image).codes)

    def analyse(self, image: np.ndarray) -> FrameDecode:
        """Decode ``image`` and report accepted codes, rejected decodes and regions tried."""
        gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        self._frames += 1
        found: dict[str, Decoded] = {}
        rejected = 0
        done: list[Region] = []
        regions = find_regions(gray, self.options.locate)
        for region in regions:
            if any(_inside(region, d) for d in done):
                continue
            hits, unconfirmed = self._decode_region(gray, region)
            rejected += unconfirmed
            for hit in hits:
                if plausible(hit.text):
                    found.setdefault(hit.text, hit)
                else:
                    rejected += 1
            if hits:
                done.append(region)
        every = self.options.full_frame_every
        if every and self._frames % every == 0:
            for hit in self._frame_reader.read(gray):
                if plausible(hit.text):
                    found.setdefault(hit.text, hit)
                else:
                    rejected += 1
        return FrameDecode(tuple(found.values()), rejected, len(regions))

    def _decode_region(self, gray: np.ndarray, region: Region) -> tuple[list[Decoded], int]:
        opts = self.options
        if region.linear:
            return self._linear(gray, region) if opts.code128 else ([], 0)
        return (self._square(gray, region) if opts.datamatrix else []), 0

    def _linear(self, gray: np.ndarray, region: Region) -> tuple[list[Decoded], int]:
        """Code128 in an upright crop; a read at low resolution stands only when a second read agrees.

        Attempts run cheapest first and stop at the first sure or confirmed text. Returns the
        accepted hits and the number of lone, unconfirmed texts seen.
        """
        crops: dict[float, np.ndarray] = {}
        votes: Counter[str] = Counter()
        first: dict[str, Decoded] = {}
        for step, (zoom, reader) in enumerate(self._attempts):
            if step == 1 and bar_edges(crops[1.0]) < self.options.min_bar_edges:
                break  # not a barcode (a box edge, a line of text): not worth the slower attempts
            if zoom not in crops:
                crops[zoom] = upright_crop(gray, region, zoom=zoom)
            hits = (reader.read(crops[zoom], (Symbology.CODE128,)) if isinstance(reader, ZxingDecoder)
                    else reader.read(crops[zoom]))
            if isinstance(reader, ZxingDecoder):
                sure = [h for h in hits if _module_px(h, zoom) >= self.options.min_module_px]
                if sure:
                    return _at(sure, region), len(votes)
            for hit in {h.text: h for h in hits}.values():
                votes[hit.text] += 1
                first.setdefault(hit.text, hit)
            agreed = [first[t] for t, n in votes.items() if n >= 2]
            if agreed:
                return _at(agreed, region), len(votes) - len(agreed)
        return [], len(votes)

    def _square(self, gray: np.ndarray, region: Region) -> list[Decoded]:
        """DataMatrix in an axis-aligned crop: one global threshold, then zxing-cpp's local one, then
        0.75x for a large crop or 1.5x for a small one."""
        crop = square_crop(gray, region)
        if crop.size == 0:
            return []
        side = max(crop.shape)
        aspect = max(region.length, region.width) / max(1.0, min(region.length, region.width))
        attempts = [(1.0, self._dm_global), (1.0, self._dm_reader)]
        if aspect <= 3.0:  # a DataMatrix is at most ~2.2:1; retry plausible ones at another scale
            attempts.append((0.75, self._dm_reader) if side >= 280 else (1.5, self._dm_reader))
        for zoom, reader in attempts:
            if zoom > 1 and side >= self.options.upscale_below:
                continue
            scaled = crop if zoom == 1.0 else cv2.resize(
                crop, None, fx=zoom, fy=zoom, interpolation=cv2.INTER_AREA if zoom < 1 else cv2.INTER_CUBIC)
            hits = reader.read(scaled)
            if hits:
                return _at(hits, region)
        return []


def bar_edges(crop: np.ndarray, rows: int = 5) -> int:
    """Median count of dark/light transitions along ``rows`` rows across the middle of an upright crop.

    A 20-digit Code128 has about 77; an edge of a box or a label has a handful.
    """
    h = crop.shape[0]
    counts = []
    for i in range(rows):
        row = crop[h * (i + 1) // (rows + 1)].astype(np.int16)
        lo, hi = int(row.min()), int(row.max())
        if hi - lo < 24:
            counts.append(0)
            continue
        dark = row < (lo + hi) // 2
        counts.append(int(np.count_nonzero(dark[1:] != dark[:-1])))
    return sorted(counts)[rows // 2]


def _module_px(hit: Decoded, zoom: float) -> float:
    """Pixels per module in the source frame for a Code128 read from a crop zoomed by ``zoom``."""
    return hit.length / zoom / code128_modules(hit.text)


def _at(hits: list[Decoded], region: Region) -> list[Decoded]:
    """Place crop decodes at the region's centre in frame coordinates."""
    return [Decoded(h.text, h.symbology, region.cx, region.cy) for h in hits]


def _inside(region: Region, other: Region) -> bool:
    """True when ``region``'s centre lies within ``other``'s extent."""
    reach = max(other.length, other.width) / 2
    return math.hypot(region.cx - other.cx, region.cy - other.cy) < reach
