"""Camera stills at the collector (issue 7): ask a store for a settlement's still, keep what it sends.

The collector asks only for stills that prove an alert (`requests_for`): those named by the camera
evidence of a camera rule's hit. A store answers on its own `upload/still` topic (the broker's ACL
lets it publish nowhere else); `StillArchive.accept` checks the topic against the upload, the size,
the JPEG magic and the hash, and that the still is one a camera-evidence event of that store names,
then keeps it as `{folder}/{store}/{original sha256}` (the name the dashboard's alert page looks for).
Anything refused comes back as a reason for the quarantine: nothing is dropped silently.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from collector.broker.topics import command_topic, parse_topic
from collector.errors import CollectorError
from collector.rules.model import Hit, Scope
from drugtrace.errors import SchemaError
from drugtrace.events import CameraEvidence
from drugtrace.stills import StillRequest, StillUpload, decode_upload, encode

__all__ = ["StillRequestOut", "StillArchive", "StillRefused", "requests_for", "cmd_topic", "UPLOAD_FILTER"]

UPLOAD_FILTER = "drugtrace/+/+/upload/still"


class StillRefused(CollectorError):
    """An uploaded still that cannot be accepted; the message says what was expected and what arrived."""


@dataclass(frozen=True)
class StillRequestOut:
    """A request to publish: which store, and the payload for its `cmd/still` topic."""

    store: str
    setl_id: str
    sha256: str

    def payload(self) -> bytes:
        return encode(StillRequest(setl_id=self.setl_id, sha256=self.sha256))


def cmd_topic(county: str, store: str) -> str:
    return command_topic(county, store, "still")


def requests_for(hits: Iterable[Hit], evidence: Sequence[CameraEvidence],
                 have: Callable[[str, str], bool] = lambda store, sha: False) -> list[StillRequestOut]:
    """Stills to ask for: those of the camera evidence cited by settlement and store-hour hits, not yet kept."""
    cited = {event_id for hit in hits if hit.rule.scope in (Scope.SETTLEMENT, Scope.STORE_HOUR)
             for event_id in hit.evidence}
    out: dict[tuple[str, str], StillRequestOut] = {}
    for camera in evidence:
        if camera.id in cited and camera.still_image and not have(camera.store, camera.still_image):
            out.setdefault((camera.store, camera.still_image),
                           StillRequestOut(camera.store, camera.setl_id, camera.still_image))
    return sorted(out.values(), key=lambda r: (r.store, r.setl_id))


class StillArchive:
    """A folder of uploaded stills, one sub-folder per store."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)

    def path(self, store: str, sha256: str) -> Path:
        return self.folder / store / sha256

    def has(self, store: str, sha256: str) -> bool:
        return self.path(store, sha256).is_file()

    def accept(self, topic: str, payload: bytes, county: str,
               known: Callable[[str, str], bool]) -> StillUpload:
        """Verify and keep one upload; `known(store, sha256)` says whether a camera-evidence event of
        that store names the still. Raises StillRefused with the reason."""
        parts = parse_topic(topic)
        if parts is None or parts.kind != "upload" or parts.county != county:
            raise StillRefused(f"Expected a topic drugtrace/{county}/{{store}}/upload/still, got {topic!r}")
        try:
            upload = decode_upload(payload)
        except SchemaError as exc:
            raise StillRefused(str(exc)) from None
        if upload.store != parts.store:
            raise StillRefused(f"Expected a still of store {parts.store!r} (from the topic), got {upload.store!r}")
        if not known(upload.store, upload.original_sha256):
            raise StillRefused(f"Expected a still named by a camera-evidence event of {upload.store}, got "
                               f"{upload.original_sha256} for settlement {upload.setl_id!r}")
        self._write(self.path(upload.store, upload.original_sha256), upload.jpeg)
        return upload

    @staticmethod
    def _write(target: Path, data: bytes) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
