"""Turn keyboard-wedge key events into text with a US layout (pure).

Shift-aware; CAPS LOCK is not applied (raw key codes are read, the scanner sends shift itself);
Ctrl+letter and Ctrl+[ \\ ] ^ _ give ASCII control characters (Ctrl+] = GS, how many scanners send
FNC1 in keyboard mode); Alt + keypad digits gives the character with that decimal code (Alt+0029 = GS).
Key codes are Linux input-event codes (evdev.ecodes).
"""

from __future__ import annotations

from evdev import ecodes as e

KEY_UP, KEY_DOWN, KEY_HOLD = 0, 1, 2

_PLAIN_SHIFTED: dict[int, tuple[str, str]] = {
    **{getattr(e, f"KEY_{c}"): (c.lower(), c) for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"},
    e.KEY_1: ("1", "!"), e.KEY_2: ("2", "@"), e.KEY_3: ("3", "#"), e.KEY_4: ("4", "$"), e.KEY_5: ("5", "%"),
    e.KEY_6: ("6", "^"), e.KEY_7: ("7", "&"), e.KEY_8: ("8", "*"), e.KEY_9: ("9", "("), e.KEY_0: ("0", ")"),
    e.KEY_MINUS: ("-", "_"), e.KEY_EQUAL: ("=", "+"), e.KEY_LEFTBRACE: ("[", "{"), e.KEY_RIGHTBRACE: ("]", "}"),
    e.KEY_BACKSLASH: ("\\", "|"), e.KEY_SEMICOLON: (";", ":"), e.KEY_APOSTROPHE: ("'", '"'),
    e.KEY_GRAVE: ("`", "~"), e.KEY_COMMA: (",", "<"), e.KEY_DOT: (".", ">"), e.KEY_SLASH: ("/", "?"),
    e.KEY_SPACE: (" ", " "), e.KEY_TAB: ("\t", "\t"), e.KEY_ENTER: ("\n", "\n"), e.KEY_KPENTER: ("\n", "\n"),
    e.KEY_KPMINUS: ("-", "-"), e.KEY_KPPLUS: ("+", "+"), e.KEY_KPASTERISK: ("*", "*"),
    e.KEY_KPSLASH: ("/", "/"), e.KEY_KPDOT: (".", "."),
}
_KEYPAD_DIGITS = {getattr(e, f"KEY_KP{d}"): str(d) for d in range(10)}
_SHIFT = {e.KEY_LEFTSHIFT, e.KEY_RIGHTSHIFT}
_CTRL = {e.KEY_LEFTCTRL, e.KEY_RIGHTCTRL}
_ALT = {e.KEY_LEFTALT, e.KEY_RIGHTALT}
_IGNORED = {e.KEY_CAPSLOCK, e.KEY_NUMLOCK, e.KEY_SCROLLLOCK, e.KEY_LEFTMETA, e.KEY_RIGHTMETA}


class KeyDecoder:
    """Feed (type, code, value) key events; get the characters they type. Unknown keys are counted."""

    def __init__(self) -> None:
        self._shift: set[int] = set()
        self._ctrl: set[int] = set()
        self._alt: set[int] = set()
        self._alt_digits = ""
        self.unknown_keys = 0

    def feed(self, ev_type: int, code: int, value: int) -> str:
        if ev_type != e.EV_KEY or value == KEY_HOLD:
            return ""
        for group in (self._shift, self._ctrl, self._alt):
            if code in (_SHIFT if group is self._shift else _CTRL if group is self._ctrl else _ALT):
                if value == KEY_DOWN:
                    group.add(code)
                    return ""
                group.discard(code)
                if group is self._alt and not self._alt and self._alt_digits:
                    digits, self._alt_digits = self._alt_digits, ""
                    return chr(int(digits) % 256)
                return ""
        if value != KEY_DOWN or code in _IGNORED:
            return ""
        if code in _KEYPAD_DIGITS:
            if self._alt:
                self._alt_digits += _KEYPAD_DIGITS[code]
                return ""
            return _KEYPAD_DIGITS[code]
        pair = _PLAIN_SHIFTED.get(code)
        if pair is None:
            self.unknown_keys += 1
            return ""
        if self._ctrl:
            upper = pair[1] if pair[0].isalpha() else {"[": "[", "\\": "\\", "]": "]", "6": "^", "-": "_"}.get(pair[0])
            if upper is None:
                self.unknown_keys += 1
                return ""
            return chr(ord(upper.upper()) - 64)
        return pair[1] if self._shift else pair[0]

    def text(self, events: list[tuple[int, int, int]]) -> str:
        return "".join(self.feed(*event) for event in events)
