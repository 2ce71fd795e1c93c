"""Repeated decodes of the same box count once.

A traceability code is unique per box, so its text identifies the box: a box held up for three
seconds is decoded in many frames but is one box. For evidence the texts are simply made unique;
for the camera acting as a scanner a debouncer emits a code once, and again only after the box
has been out of view for ``rearm_s`` seconds (a deliberate re-scan, which the counter rules judge).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["unique_codes", "DebounceOptions", "CodeDebouncer"]


def unique_codes(batches: Iterable[Iterable[str]]) -> list[str]:
    """Distinct codes in order of first sighting.

    >>> unique_codes([("A", "B"), ("B",), (), ("C", "A")])
    ['A', 'B', 'C']
    """
    return list(dict.fromkeys(code for batch in batches for code in batch))


@dataclass(frozen=True)
class DebounceOptions:
    """``confirm_frames``: sightings in a row before a code is emitted; ``rearm_s``: absence before re-emitting."""

    confirm_frames: int = 2
    rearm_s: float = 5.0


class CodeDebouncer:
    """Turns per-frame decodes into scan events, one per presentation of a box."""

    def __init__(self, options: DebounceOptions = DebounceOptions()) -> None:
        if options.confirm_frames < 1:
            raise ValueError(f"Expected confirm_frames of at least 1, got {options.confirm_frames}")
        self.options = options
        self._streak: dict[str, int] = {}
        self._last_seen: dict[str, float] = {}
        self._emitted: set[str] = set()

    def feed(self, codes: Iterable[str], now: float) -> list[str]:
        """Codes decoded in one analysed frame at monotonic time ``now``; returns codes to emit."""
        seen = list(dict.fromkeys(codes))
        for code in [c for c in self._streak if c not in seen]:
            del self._streak[code]
        out: list[str] = []
        for code in seen:
            last = self._last_seen.get(code)
            if last is not None and now - last >= self.options.rearm_s:
                self._emitted.discard(code)  # out of view long enough: shown again on purpose
            self._last_seen[code] = now
            self._streak[code] = self._streak.get(code, 0) + 1
            if code not in self._emitted and self._streak[code] >= self.options.confirm_frames:
                self._emitted.add(code)
                out.append(code)
        for code in [c for c, t in self._last_seen.items() if now - t > 10 * self.options.rearm_s]:
            del self._last_seen[code]
            self._emitted.discard(code)
        return out
