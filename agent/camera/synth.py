"""Synthetic counter scenes with codes, for tests, the benchmark and a camera self-test.

Codes are rendered by zxing-cpp's writer (true GS1 DataMatrix with ``gs1=True``), placed on
labels on a cluttered counter-like background, then degraded the way a camera degrades them:
rotation, blur, sensor noise, low contrast, small size, JPEG compression.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import cv2
import numpy as np
import zxingcpp

__all__ = [
    "GS",
    "HardCase",
    "VARIANTS",
    "code128_patch",
    "counter_scene",
    "datamatrix_patch",
    "degrade",
    "hard_set",
    "nmpa_code",
    "gs1_code",
    "place",
    "scene_with_code",
]

GS = "\x1d"

# name -> (angle degrees, module scale factor, blur sigma, noise sigma, contrast, jpeg quality)
VARIANTS: dict[str, tuple[float, float, float, float, float, int]] = {
    "upright": (0, 1.0, 0, 3, 1.0, 90),
    "tilt15": (15, 1.0, 0, 3, 1.0, 90),
    "tilt30": (30, 1.0, 0, 3, 1.0, 90),
    "tilt45": (45, 1.0, 0, 3, 1.0, 90),
    "tilt60": (60, 1.0, 0, 3, 1.0, 90),
    "tilt75": (75, 1.0, 0, 3, 1.0, 90),
    "rot90": (90, 1.0, 0, 3, 1.0, 90),
    "blur": (0, 1.0, 1.2, 3, 1.0, 90),
    "half_scale": (0, 0.5, 0, 3, 1.0, 90),
    "jpeg50": (0, 1.0, 0, 3, 1.0, 50),
    "low_contrast": (0, 1.0, 0, 3, 0.3, 90),
    "noise": (0, 1.0, 0, 10, 1.0, 90),
}
TILTED = ("tilt15", "tilt30", "tilt45", "tilt60", "tilt75")

# pixels per module at scale 1.0: a 20-digit Code128 is then 435 px wide, a DataMatrix ~100 px
CODE128_PX = 3.0
DATAMATRIX_PX = 5.0


@dataclass(frozen=True)
class HardCase:
    """One generated frame: which symbology and variant, the text a decoder must return."""

    symbology: str
    variant: str
    expected: str
    image: np.ndarray


def nmpa_code(rng: random.Random) -> str:
    """A 码上放心 code: 20 digits, first digit 8."""
    return "8" + "".join(rng.choice("0123456789") for _ in range(19))


def _gtin_check(body: str) -> str:
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


def gs1_code(rng: random.Random) -> tuple[str, str]:
    """A GS1 element string as (human-readable with parentheses, raw with GS separators)."""
    body = "0690" + "".join(rng.choice("0123456789") for _ in range(9))
    gtin = body + _gtin_check(body)
    expiry = f"{rng.randint(26, 30):02d}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    batch = "".join(rng.choice("ABCDEFGH0123456789") for _ in range(rng.randint(4, 8)))
    serial = "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(rng.randint(6, 12)))
    hri = f"(01){gtin}(17){expiry}(10){batch}(21){serial}"
    raw = f"01{gtin}17{expiry}10{batch}{GS}21{serial}"
    return hri, raw


def _noise(shape: tuple[int, ...], sigma: float, rng: random.Random) -> np.ndarray:
    """Gaussian noise, float32, reproducible from ``rng``."""
    flat = np.empty((shape[0], int(np.prod(shape[1:]))), np.float32)  # one channel: randn fills it all
    cv2.setRNGSeed(rng.randrange(2**31))
    cv2.randn(flat, 0.0, sigma)
    return flat.reshape(shape)


def _resize_modules(img: np.ndarray, px: float) -> np.ndarray:
    h, w = img.shape[:2]
    size = (max(1, round(w * px)), max(1, round(h * px)))
    return cv2.resize(img, size, interpolation=cv2.INTER_AREA if px < 1 else cv2.INTER_LINEAR)


def code128_patch(text: str, module_px: float = CODE128_PX, height_modules: int = 30) -> np.ndarray:
    """Grey label with a Code128 symbol, quiet zones included, at ``module_px`` pixels per module."""
    bar = np.asarray(zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.Code128).to_image(
        scale=1, add_quiet_zones=False))[:1, :]
    quiet = np.full((1, 12), 255, np.uint8)
    row = np.hstack([quiet, bar, quiet])
    img = np.repeat(row, height_modules, axis=0)
    return _resize_modules(img, module_px)


def datamatrix_patch(hri: str, module_px: float = DATAMATRIX_PX) -> np.ndarray:
    """Grey label with a GS1 DataMatrix at ``module_px`` pixels per module."""
    code = zxingcpp.create_barcode(hri, zxingcpp.BarcodeFormat.DataMatrix, gs1=True)
    img = np.asarray(code.to_image(scale=1, add_quiet_zones=False))
    img = cv2.copyMakeBorder(img, 3, 3, 3, 3, cv2.BORDER_CONSTANT, value=255)
    return _resize_modules(img, module_px)


def counter_scene(rng: random.Random, width: int = 1280, height: int = 720) -> np.ndarray:
    """A cluttered, wood-toned BGR counter top with boxes and printed text but no codes."""
    y = np.linspace(0, 1, height, dtype=np.float32)[:, None]
    x = np.linspace(0, 1, width, dtype=np.float32)[None, :]
    phase = rng.uniform(0, 6.28)
    grain = (18 * np.sin(40 * x + 6 * np.sin(7 * y + phase))).astype(np.float32)
    grain += _noise((height, width), 4.0, rng)
    img = cv2.merge([np.clip(grain + level, 0, 255).astype(np.uint8) for level in (90, 120, 160)])
    for _ in range(rng.randint(3, 6)):
        w, h = rng.randint(120, 380), rng.randint(80, 260)
        x0, y0 = rng.randint(0, width - w), rng.randint(0, height - h)
        colour = tuple(rng.randint(60, 240) for _ in range(3))
        cv2.rectangle(img, (x0, y0), (x0 + w, y0 + h), colour, -1)
        for k in range(rng.randint(1, 4)):
            cv2.putText(img, "".join(rng.choice("ABCDEFGHIJKLMNOP0123456789 ") for _ in range(10)),
                        (x0 + 6, y0 + 24 + 22 * k), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (20, 20, 20), 1)
    return img


def place(scene: np.ndarray, patch: np.ndarray, centre: tuple[int, int], angle: float,
          margin: int = 24) -> np.ndarray:
    """Paste a grey ``patch`` on a white label, rotated by ``angle`` degrees, centred at ``centre``."""
    label = cv2.copyMakeBorder(patch, margin, margin, margin, margin, cv2.BORDER_CONSTANT, value=255)
    h, w = label.shape
    rot = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    cos, sin = abs(rot[0, 0]), abs(rot[0, 1])
    bw, bh = int(h * sin + w * cos) + 2, int(h * cos + w * sin) + 2
    rot[0, 2] += bw / 2 - w / 2
    rot[1, 2] += bh / 2 - h / 2
    warped = cv2.warpAffine(label, rot, (bw, bh), flags=cv2.INTER_LINEAR, borderValue=0)
    mask = cv2.warpAffine(np.full_like(label, 255), rot, (bw, bh), flags=cv2.INTER_LINEAR, borderValue=0)
    out = scene.copy()
    x0, y0 = centre[0] - bw // 2, centre[1] - bh // 2
    xs, ys = max(0, x0), max(0, y0)
    xe, ye = min(out.shape[1], x0 + bw), min(out.shape[0], y0 + bh)
    sub = (slice(ys - y0, ye - y0), slice(xs - x0, xe - x0))
    alpha = (mask[sub].astype(np.float32) / 255.0)[..., None]
    region = out[ys:ye, xs:xe].astype(np.float32)
    out[ys:ye, xs:xe] = (alpha * warped[sub][..., None] + (1 - alpha) * region).astype(np.uint8)
    return out


def degrade(img: np.ndarray, rng: random.Random, blur: float = 0.0, noise: float = 3.0,
            contrast: float = 1.0, jpeg: int = 90) -> np.ndarray:
    """Camera-like degradation: Gaussian blur, contrast squeeze, sensor noise, JPEG round trip."""
    out = img.astype(np.float32)
    if blur > 0:
        out = cv2.GaussianBlur(out, (0, 0), blur)
    if contrast != 1.0:
        out = 128 + (out - 128) * contrast
    if noise > 0:
        out += _noise(out.shape, noise, rng)
    out8 = np.clip(out, 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", out8, [cv2.IMWRITE_JPEG_QUALITY, jpeg])
    if not ok:  # pragma: no cover - OpenCV always encodes a valid uint8 image
        return out8
    return cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)


def scene_with_code(rng: random.Random, symbology: str, variant: str = "upright",
                    width: int = 1280, height: int = 720) -> HardCase:
    """A counter scene holding one code of ``symbology`` ("code128" or "datamatrix")."""
    angle, scale, blur, noise, contrast, jpeg = VARIANTS[variant]
    if symbology == "code128":
        expected = nmpa_code(rng)
        patch = code128_patch(expected, CODE128_PX * scale)
    elif symbology == "datamatrix":
        hri, expected = gs1_code(rng)
        patch = datamatrix_patch(hri, DATAMATRIX_PX * scale)
    else:
        raise ValueError(f"Unknown symbology {symbology!r}: expected 'code128' or 'datamatrix'")
    scene = counter_scene(rng, width, height)
    sign = rng.choice((-1, 1)) if angle not in (0, 90) else 1
    reach = max(patch.shape) // 2 + 40
    centre = (rng.randint(reach, width - reach), rng.randint(min(reach, height // 2), max(reach, height - reach)))
    framed = place(scene, patch, centre, sign * angle + rng.uniform(-2, 2))
    return HardCase(symbology, variant, expected, degrade(framed, rng, blur, noise, contrast, jpeg))


def hard_set(seed: int = 7, per_variant: int = 10, symbologies: tuple[str, ...] = ("code128", "datamatrix"),
             variants: tuple[str, ...] = tuple(VARIANTS), width: int = 1280, height: int = 720) -> list[HardCase]:
    """The benchmark's hard set: ``per_variant`` frames per (symbology, variant), reproducible by seed."""
    rng = random.Random(seed)
    return [scene_with_code(rng, sym, var, width, height)
            for sym in symbologies for var in variants for _ in range(per_variant)]
