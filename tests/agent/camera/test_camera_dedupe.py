"""One box counts once, however many frames show it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.camera.dedupe import CodeDebouncer, DebounceOptions, unique_codes

A, B = "81111111111111111111", "82222222222222222222"


def test_unique_codes_keep_first_sighting_order() -> None:
    assert unique_codes([(B,), (A, B), (), (A,)]) == [B, A]


@given(st.lists(st.lists(st.sampled_from([A, B, "x", "y"]), max_size=4), max_size=20))
def test_unique_codes_is_the_set_in_order(batches: list[list[str]]) -> None:
    out = unique_codes(batches)
    assert len(out) == len(set(out)) and set(out) == {c for b in batches for c in b}


def test_a_box_held_up_for_many_frames_is_one_scan() -> None:
    debouncer = CodeDebouncer(DebounceOptions(confirm_frames=2, rearm_s=5.0))
    emitted = [debouncer.feed([A], t / 10) for t in range(30)]
    assert emitted[1] == [A]
    assert sum(len(e) for e in emitted) == 1


def test_a_single_frame_sighting_needs_confirmation() -> None:
    debouncer = CodeDebouncer(DebounceOptions(confirm_frames=2))
    assert debouncer.feed([A], 0.0) == []
    assert debouncer.feed([], 0.1) == []
    assert debouncer.feed([A], 0.2) == []
    assert debouncer.feed([A], 0.3) == [A]


def test_showing_the_box_again_after_rearm_is_a_new_scan() -> None:
    debouncer = CodeDebouncer(DebounceOptions(confirm_frames=1, rearm_s=5.0))
    assert debouncer.feed([A, B], 0.0) == [A, B]
    assert debouncer.feed([B], 1.0) == []          # A left the view at 0.0
    assert debouncer.feed([A], 4.0) == []          # back too soon: same presentation
    assert debouncer.feed([], 6.0) == []
    assert debouncer.feed([A], 9.5) == [A]         # away for 5.5 s: a deliberate re-scan


def test_confirm_frames_must_be_positive() -> None:
    with pytest.raises(ValueError, match="Expected confirm_frames of at least 1, got 0"):
        CodeDebouncer(DebounceOptions(confirm_frames=0))
