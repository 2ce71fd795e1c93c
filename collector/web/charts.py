"""Small SVG charts drawn on the server: no JavaScript, no CDN, every label escaped.

>>> "<script>" in str(bar_chart([("<script>", 3)]))
False
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

_W, _H, _PAD, _LABEL = 640, 180, 24, 28


def _frame(body: list[str], title: str, width: int, height: int) -> Markup:
    head = (f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
            f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>')
    return Markup(head + "".join(body) + "</svg>")


def bar_chart(points: Sequence[tuple[str, float]], title: str = "", css: str = "bar") -> Markup:
    """Vertical bars with their value on top and the label below."""
    if not points:
        return _frame([], title, _W, _H)
    top = max(value for _, value in points) or 1
    slot = (_W - 2 * _PAD) / len(points)
    usable = _H - _PAD - _LABEL
    body = []
    for index, (label, value) in enumerate(points):
        height = usable * value / top
        x = _PAD + index * slot + slot * 0.15
        y = _PAD + usable - height
        body.append(f'<rect class="{css}" x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{height:.1f}">'
                    f'<title>{escape(label)}: {value:g}</title></rect>')
        body.append(f'<text class="value" x="{x + slot * 0.35:.1f}" y="{y - 4:.1f}" text-anchor="middle">'
                    f'{value:g}</text>')
        body.append(f'<text class="label" x="{x + slot * 0.35:.1f}" y="{_H - 8}" text-anchor="middle">'
                    f'{escape(label)}</text>')
    return _frame(body, title, _W, _H)


def rate_chart(points: Sequence[tuple[str, float | None]], threshold: float, title: str = "") -> Markup:
    """A 0-100 % line (gaps where a day had nothing to measure) with the alert threshold dashed."""
    usable = _H - _PAD - _LABEL
    slot = (_W - 2 * _PAD) / max(len(points), 1)

    def y(rate: float) -> float:
        return _PAD + usable * (1 - rate)

    body = [f'<line class="threshold" x1="{_PAD}" x2="{_W - _PAD}" y1="{y(threshold):.1f}" y2="{y(threshold):.1f}">'
            f'<title>{threshold:.0%}</title></line>']
    segment: list[str] = []
    for index, (label, rate) in enumerate(points):
        x = _PAD + index * slot + slot / 2
        if rate is None:
            if len(segment) > 1:
                body.append(f'<polyline class="rate" points="{" ".join(segment)}"/>')
            segment = []
        else:
            segment.append(f"{x:.1f},{y(rate):.1f}")
            body.append(f'<circle class="rate" cx="{x:.1f}" cy="{y(rate):.1f}" r="3">'
                        f'<title>{escape(label)}: {rate:.1%}</title></circle>')
        if index % max(1, len(points) // 10) == 0:
            body.append(f'<text class="label" x="{x:.1f}" y="{_H - 8}" text-anchor="middle">{escape(label)}</text>')
    if len(segment) > 1:
        body.append(f'<polyline class="rate" points="{" ".join(segment)}"/>')
    return _frame(body, title, _W, _H)
