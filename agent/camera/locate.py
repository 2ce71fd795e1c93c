"""Find barcode-like regions in a grey frame and cut them out upright.

A code is a patch of dense, strong edges. Gradients are taken at full resolution (thin bars
survive), then pooled onto a coarse grid where a structure tensor gives, per region, how
one-directional the edges are (coherence: bars of a linear code score near 1, a DataMatrix or text
lower) and the direction across the bars. Linear candidates are rotated so their bars stand
upright; square ones are cut axis-aligned, since the DataMatrix decoder reads any angle.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import cv2
import numpy as np

__all__ = ["Region", "LocateOptions", "find_regions", "upright_crop", "square_crop"]


@dataclass(frozen=True)
class LocateOptions:
    """Tuning of the locator; the defaults suit 1280x720 counter frames."""

    pool: int = 4               # full-resolution pixels per grid cell
    window: int = 5             # smoothing window, in cells
    min_density: float = 28.0   # mean gradient magnitude a code region must exceed
    noise_factor: float = 2.5   # ... and this many times the frame's median (noise, texture)
    min_cells: int = 40         # smallest region, in cells
    linear_coherence: float = 0.55  # at or above: treat as a linear (1D) code
    max_regions: int = 6        # strongest linear regions kept per frame
    max_square: int = 4         # strongest square (2D) regions kept per frame
    max_square_px: float = 480.0  # larger square regions are texture (a face, a poster), not one DataMatrix


@dataclass(frozen=True)
class Region:
    """A candidate region in full-resolution pixel coordinates.

    ``angle`` is the direction across the bars in degrees (0 = bars vertical); ``length`` runs
    along that direction and ``width`` across it. ``linear`` tells which pass found it.
    """

    cx: float
    cy: float
    length: float
    width: float
    angle: float
    coherence: float
    score: float
    linear: bool = True


def _grids(gray: np.ndarray, opts: LocateOptions) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    gx = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3)
    h, w = gray.shape[:2]
    size = (max(1, w // opts.pool), max(1, h // opts.pool))

    def pooled(a: np.ndarray) -> np.ndarray:
        return cv2.blur(cv2.resize(a, size, interpolation=cv2.INTER_AREA), (opts.window, opts.window))

    return pooled(cv2.magnitude(gx, gy)), pooled(gx * gx), pooled(gy * gy), pooled(gx * gy)


def find_regions(gray: np.ndarray, opts: LocateOptions = LocateOptions()) -> list[Region]:
    """Candidate code regions of a grey image: linear ones first, then square ones, strongest first.

    Linear candidates come from cells whose own edges agree in direction, so a barcode touching
    a textured neighbour (a face, printed text) is still cut out on its own; square candidates come
    from every dense cell.
    """
    if gray.ndim != 2:
        raise ValueError(f"Expected a 2-D grey image, got shape {gray.shape}")
    mag, jxx, jyy, jxy = _grids(gray, opts)
    floor = max(opts.min_density, opts.noise_factor * float(np.median(mag)))
    dense = mag > floor
    cell_coherence = np.sqrt((jxx - jyy) ** 2 + 4 * jxy ** 2) / (jxx + jyy + 1e-6)
    linear = [r for r in _components(dense & (cell_coherence >= opts.linear_coherence), mag, jxx, jyy, jxy, opts)
              if r.coherence >= opts.linear_coherence]
    square = [dataclasses.replace(r, linear=False) for r in _components(dense, mag, jxx, jyy, jxy, opts)
              if r.coherence < opts.linear_coherence + 0.15 and max(r.length, r.width) <= opts.max_square_px]
    return linear[:opts.max_regions] + square[:opts.max_square]


def _components(mask: np.ndarray, mag: np.ndarray, jxx: np.ndarray, jyy: np.ndarray, jxy: np.ndarray,
                opts: LocateOptions) -> list[Region]:
    """One region per connected component of ``mask`` (after removing specks), strongest first."""
    kernel = np.ones((3, 3), np.uint8)
    cleaned = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, kernel)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(cleaned, connectivity=8)
    regions: list[Region] = []
    p = opts.pool
    for i in range(1, count):
        x, y, w, h, area = (int(v) for v in stats[i])
        if area < opts.min_cells:
            continue
        sub = labels[y:y + h, x:x + w] == i
        sxx, syy, sxy = (float(a[y:y + h, x:x + w][sub].sum()) for a in (jxx, jyy, jxy))
        coherence = math.sqrt((sxx - syy) ** 2 + 4 * sxy ** 2) / (sxx + syy + 1e-6)
        theta = 0.5 * math.atan2(2 * sxy, sxx - syy)
        ys, xs = np.nonzero(sub)
        px = (xs + x + 0.5) * p
        py = (ys + y + 0.5) * p
        c, s = math.cos(theta), math.sin(theta)
        along = px * c + py * s
        across = -px * s + py * c
        a0, a1 = float(along.min()), float(along.max())
        b0, b1 = float(across.min()), float(across.max())
        am, bm = (a0 + a1) / 2, (b0 + b1) / 2
        score = float(mag[y:y + h, x:x + w][sub].mean()) * math.sqrt(area)
        regions.append(Region(cx=am * c - bm * s, cy=am * s + bm * c, length=a1 - a0 + p,
                              width=b1 - b0 + p, angle=math.degrees(theta), coherence=coherence, score=score))
    regions.sort(key=lambda r: r.score, reverse=True)
    return regions


def upright_crop(gray: np.ndarray, region: Region, pad_along: float = 0.12, pad_px: float = 12.0,
                 zoom: float = 1.0) -> np.ndarray:
    """Cut ``region`` out of ``gray`` rotated so its bars stand vertical, with quiet-zone padding."""
    length = region.length * (1 + 2 * pad_along) + 2 * pad_px
    width = region.width + 2 * pad_px
    out_w, out_h = max(8, round(length * zoom)), max(8, round(width * zoom))
    theta = math.radians(region.angle)
    c, s = math.cos(theta) / zoom, math.sin(theta) / zoom
    # maps output (u, v) to source: centre + R(theta) @ ((u, v) - out_centre) / zoom
    m = np.array([[c, -s, region.cx - c * out_w / 2 + s * out_h / 2],
                  [s, c, region.cy - s * out_w / 2 - c * out_h / 2]], np.float32)
    return cv2.warpAffine(gray, m, (out_w, out_h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)


def square_crop(gray: np.ndarray, region: Region, pad: float = 0.25) -> np.ndarray:
    """Axis-aligned crop around ``region`` with ``pad`` of its size added on every side."""
    half = max(region.length, region.width) * (0.5 + pad)
    h, w = gray.shape[:2]
    x0, x1 = max(0, int(region.cx - half)), min(w, int(region.cx + half) + 1)
    y0, y1 = max(0, int(region.cy - half)), min(h, int(region.cy + half) + 1)
    return gray[y0:y1, x0:x1]
