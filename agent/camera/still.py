"""One JPEG still per settlement, kept at the store and deleted after a retention period.

Files are named by the SHA-256 of their bytes (the hash the camera-evidence event carries), are
written to a temporary name and renamed into place, so a crash never leaves half a JPEG under a
real name. The still leaves the store only when the collector or an auditor asks (issue 7).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import tempfile
from pathlib import Path

import cv2
import numpy as np

from agent.camera.errors import CameraError

__all__ = ["StillStore", "encode_still"]

_SHA = re.compile(r"[0-9a-f]{64}")


def encode_still(image: np.ndarray, quality: int = 70, max_width: int = 960) -> bytes:
    """JPEG bytes of a BGR frame, shrunk to ``max_width``."""
    if image.shape[1] > max_width:
        scale = max_width / image.shape[1]
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise CameraError(f"Expected OpenCV to encode a JPEG, got a failure for an image of shape {image.shape}")
    return buf.tobytes()


class StillStore:
    """A folder of stills with a retention period."""

    def __init__(self, folder: str | os.PathLike[str], retention: dt.timedelta = dt.timedelta(days=30),
                 max_bytes: int = 2_000_000) -> None:
        self.folder = Path(folder)
        self.retention = retention
        self.max_bytes = max_bytes
        self.folder.mkdir(parents=True, exist_ok=True)

    def keep(self, jpeg: bytes) -> str:
        """Store ``jpeg`` and return its SHA-256 hex digest (storing the same bytes twice is one file)."""
        if not jpeg.startswith(b"\xff\xd8"):
            raise CameraError(f"Expected JPEG bytes starting FF D8, got {jpeg[:2].hex() or 'nothing'}")
        if len(jpeg) > self.max_bytes:
            raise CameraError(f"Expected a still of at most {self.max_bytes} bytes, got {len(jpeg)}")
        digest = hashlib.sha256(jpeg).hexdigest()
        target = self.folder / f"{digest}.jpg"
        if not target.exists():
            fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".part")
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(jpeg)
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        else:
            os.utime(target)  # a second settlement showing the same picture restarts its retention
        return digest

    def path(self, digest: str) -> Path | None:
        """Where the still with this digest is, or None when it is unknown or already deleted."""
        if not _SHA.fullmatch(digest):
            return None
        target = self.folder / f"{digest}.jpg"
        return target if target.exists() else None

    def read(self, digest: str) -> bytes | None:
        """The JPEG with this digest, or None when unknown or already deleted (for an upload the collector asked for)."""
        target = self.path(digest)
        if target is None:
            return None
        try:
            return target.read_bytes()
        except OSError:
            return None

    def purge(self, now: dt.datetime | None = None) -> int:
        """Delete stills (and stray partial files) older than the retention period; returns how many."""
        current = (now or dt.datetime.now(dt.timezone.utc)).timestamp()
        limit = current - self.retention.total_seconds()
        deleted = 0
        for entry in self.folder.iterdir():
            if entry.suffix not in (".jpg", ".part") or not entry.is_file():
                continue
            if entry.stat().st_mtime < limit:
                entry.unlink(missing_ok=True)
                deleted += 1
        return deleted
