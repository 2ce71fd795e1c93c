"""Cut a scanner's byte stream into lines (pure): bounded length, overlong lines discarded and reported."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Line:
    data: bytes  # without the terminator


@dataclass(frozen=True)
class Overlong:
    discarded: int  # bytes thrown away up to and including the next terminator's predecessor


Frame = Line | Overlong


class LineFramer:
    """Feed bytes as they arrive; get complete lines. Never holds more than `max_line` bytes.

    >>> framer = LineFramer(b"\\r", max_line=8)
    >>> framer.feed(b"8123\\r0123456789ab") + framer.feed(b"cd\\rok\\r")
    [Line(data=b'8123'), Overlong(discarded=14), Line(data=b'ok')]
    """

    def __init__(self, terminator: bytes, max_line: int) -> None:
        if not terminator:
            raise ValueError("Expected a non-empty terminator, got b''.")
        self.terminator = terminator
        self.max_line = max_line
        self._buffer = bytearray()
        self._discarding = 0  # > 0 while skipping an overlong line: bytes skipped so far

    @property
    def partial(self) -> int:
        """Bytes of an unfinished line (lost if the device goes away now)."""
        return len(self._buffer) + self._discarding

    def reset(self) -> int:
        """Forget the unfinished line (device unplugged); return how many bytes were dropped."""
        dropped = self.partial
        self._buffer.clear()
        self._discarding = 0
        return dropped

    def feed(self, chunk: bytes) -> list[Frame]:
        frames: list[Frame] = []
        self._buffer += chunk
        term = self.terminator
        while True:
            index = self._buffer.find(term)
            if index < 0:
                break
            if self._discarding:
                frames.append(Overlong(self._discarding + index))
                self._discarding = 0
            elif index > self.max_line:
                frames.append(Overlong(index))
            else:
                frames.append(Line(bytes(self._buffer[:index])))
            del self._buffer[: index + len(term)]
        keep = len(term) - 1  # a terminator may be split across chunks
        if len(self._buffer) > self.max_line + keep:
            cut = len(self._buffer) - keep
            self._discarding += cut
            del self._buffer[:cut]
        return frames
