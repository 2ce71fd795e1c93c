"""Stills kept at the store, named by hash, deleted after retention."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from agent.camera.errors import CameraError
from agent.camera.still import StillStore, encode_still

NOW = dt.datetime(2026, 3, 1, 12, tzinfo=dt.timezone.utc)


def _jpeg(value: int = 90) -> bytes:
    return encode_still(np.full((720, 1280, 3), value, np.uint8))


def test_encode_still_shrinks_to_max_width() -> None:
    image = cv2.imdecode(np.frombuffer(encode_still(np.zeros((720, 1280, 3), np.uint8), max_width=640), np.uint8),
                         cv2.IMREAD_COLOR)
    assert image.shape == (360, 640, 3)


def test_keep_names_the_file_by_sha256(tmp_path: Path) -> None:
    store = StillStore(tmp_path / "stills")
    jpeg = _jpeg()
    digest = store.keep(jpeg)
    assert digest == hashlib.sha256(jpeg).hexdigest()
    assert store.path(digest) == tmp_path / "stills" / f"{digest}.jpg"
    assert store.path(digest).read_bytes() == jpeg  # type: ignore[union-attr]
    assert store.keep(jpeg) == digest and len(list((tmp_path / "stills").iterdir())) == 1


def test_unknown_or_malformed_digests_have_no_path(tmp_path: Path) -> None:
    store = StillStore(tmp_path)
    assert store.path("0" * 64) is None
    assert store.path("../etc/passwd") is None


def test_refuses_non_jpeg_and_oversized(tmp_path: Path) -> None:
    store = StillStore(tmp_path, max_bytes=100)
    with pytest.raises(CameraError, match="Expected JPEG bytes starting FF D8, got 8950"):
        store.keep(b"\x89PNG....")
    with pytest.raises(CameraError, match=r"Expected a still of at most 100 bytes, got \d+"):
        store.keep(_jpeg())


def test_purge_deletes_only_expired_stills(tmp_path: Path) -> None:
    store = StillStore(tmp_path, retention=dt.timedelta(days=30))
    old, fresh = store.keep(_jpeg(10)), store.keep(_jpeg(200))
    stray = tmp_path / "x.part"
    stray.write_bytes(b"half")
    other = tmp_path / "notes.txt"
    other.write_text("keep me")
    long_ago = (NOW - dt.timedelta(days=31)).timestamp()
    for path in (store.path(old), stray, other):
        os.utime(path, (long_ago, long_ago))  # type: ignore[arg-type]
    recent = (NOW - dt.timedelta(days=29)).timestamp()
    os.utime(store.path(fresh), (recent, recent))  # type: ignore[arg-type]
    assert store.purge(NOW) == 2
    assert store.path(old) is None and store.path(fresh) is not None
    assert not stray.exists() and other.exists()
