"""Answer the collector's still requests (`cmd/still`) with the JPEG (`upload/still`), size-limited.

A still larger than `drugtrace.stills.MAX_STILL_BYTES` is re-encoded smaller (lower quality, then
narrower) until it fits; the upload then names both hashes. Stills never leave the store otherwise.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable

import cv2
import numpy as np

from agent.camera.still import encode_still
from drugtrace.errors import SchemaError
from drugtrace.stills import MAX_STILL_BYTES, StillUpload, decode_request, encode

__all__ = ["fit_still", "StillResponder"]

log = logging.getLogger("agent.camera")


def fit_still(jpeg: bytes, limit: int = MAX_STILL_BYTES) -> bytes | None:
    """`jpeg` itself when it fits in `limit` bytes, else a smaller re-encoding; None when undecodable."""
    if len(jpeg) <= limit:
        return jpeg
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        return None
    width = image.shape[1]
    for quality, scale in ((70, 1.0), (50, 1.0), (50, 0.75), (40, 0.5), (30, 0.35), (25, 0.2)):
        smaller = encode_still(image, quality, max(16, int(width * scale)))
        if len(smaller) <= limit:
            return smaller
    return None


class StillResponder:
    """Turns one `cmd/still` payload into the `upload/still` payload (or None, with the reason logged)."""

    def __init__(self, store: str, lookup: Callable[[str], bytes | None], limit: int = MAX_STILL_BYTES) -> None:
        self.store = store
        self.lookup = lookup
        self.limit = limit
        self.answered = 0
        self.refused = 0

    def __call__(self, payload: bytes) -> bytes | None:
        try:
            request = decode_request(payload)
        except SchemaError as exc:
            self.refused += 1
            log.warning("still request refused reason=%r", str(exc))
            return None
        jpeg = self.lookup(request.sha256)
        if jpeg is None:
            self.refused += 1
            log.warning("still request for setl_id=%r: no still %s kept (deleted or never taken)",
                        request.setl_id, request.sha256[:12])
            return None
        sent = fit_still(jpeg, self.limit)
        if sent is None:
            self.refused += 1
            log.warning("still %s cannot be made to fit %d bytes", request.sha256[:12], self.limit)
            return None
        self.answered += 1
        return encode(StillUpload(store=self.store, setl_id=request.setl_id, sha256=hashlib.sha256(sent).hexdigest(),
                                  original_sha256=request.sha256, jpeg=sent))
