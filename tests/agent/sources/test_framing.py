"""LineFramer: lines out, overlong lines discarded and reported, bounded memory, chunking-independent."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.sources.framing import Line, LineFramer, Overlong


@pytest.mark.parametrize(
    ("chunks", "terminator", "expected"),
    [
        pytest.param([b"8123456789\r"], b"\r", [Line(b"8123456789")], id="one-line-at-the-limit"),
        pytest.param([b"ab\r\ncd\r", b"\n"], b"\r\n", [Line(b"ab"), Line(b"cd")], id="terminator-split-across-chunks"),
        pytest.param([b"x" * 11 + b"\rok\r"], b"\r", [Overlong(11), Line(b"ok")], id="overlong-in-one-chunk"),
        pytest.param([b"x" * 6, b"x" * 6, b"x" * 6, b"\rok\r"], b"\r", [Overlong(18), Line(b"ok")],
                     id="overlong-across-chunks"),
        pytest.param([b"\r\r"], b"\r", [Line(b""), Line(b"")], id="blank-lines"),
        pytest.param([b"\x00\xff\x1d\r"], b"\r", [Line(b"\x00\xff\x1d")], id="binary-goes-on-as-a-line"),
        pytest.param([b"partial"], b"\r", [], id="no-terminator-yet"),
    ],
)
def test_frames(chunks: list[bytes], terminator: bytes, expected: list[object]) -> None:
    framer = LineFramer(terminator, max_line=10)
    assert [frame for chunk in chunks for frame in framer.feed(chunk)] == expected


def test_reset_reports_the_unfinished_line() -> None:
    framer = LineFramer(b"\r", max_line=10)
    framer.feed(b"8123")
    assert framer.reset() == 4
    assert framer.feed(b"56\r") == [Line(b"56")]


@given(data=st.binary(max_size=300), cuts=st.lists(st.integers(0, 300), max_size=10))
def test_chunking_never_changes_the_frames_and_memory_stays_bounded(data: bytes, cuts: list[int]) -> None:
    whole = LineFramer(b"\r\n", max_line=16)
    expected = whole.feed(data)
    pieces = LineFramer(b"\r\n", max_line=16)
    got = []
    start = 0
    for cut in sorted(cuts) + [len(data)]:
        got += pieces.feed(data[start:max(start, cut)])
        start = max(start, cut)
        assert len(pieces._buffer) <= 16 + 1
    assert got == expected
