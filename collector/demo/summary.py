"""The demo's verdict: each planted pattern found or missing, and every alert no pattern explains.

`judge` is pure; `read_alerts` is the thin reader of the collector's ledger (read-only). Every
alert counts, whatever its state: an alert opened and later withdrawn was still raised (and
notified), so it must be explained too.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from collector.demo.plan import Planted


@dataclass(frozen=True)
class AlertRow:
    id: int
    rule: str
    subject: str
    state: str
    severity: str
    stores: str

    @property
    def identity(self) -> tuple[str, str]:
        return (self.rule, self.subject)


@dataclass(frozen=True)
class Verdict:
    found: tuple[tuple[Planted, AlertRow | None], ...]
    unexplained: tuple[AlertRow, ...]

    @property
    def missing(self) -> tuple[Planted, ...]:
        return tuple(planted for planted, alert in self.found if alert is None)

    @property
    def ok(self) -> bool:
        return not self.missing and not self.unexplained


def judge(planted: Sequence[Planted], alerts: Iterable[AlertRow]) -> Verdict:
    """Match alerts to planted patterns by (rule, subject)."""
    by_identity: dict[tuple[str, str], AlertRow] = {}
    unexplained = []
    expected = {p.identity for p in planted}
    for alert in sorted(alerts, key=lambda a: a.id):
        if alert.identity in expected:
            by_identity.setdefault(alert.identity, alert)
        else:
            unexplained.append(alert)
    return Verdict(tuple((p, by_identity.get(p.identity)) for p in planted), tuple(unexplained))


def _short(subject: str, width: int = 34) -> str:
    return subject if len(subject) <= width else subject[:width - 1] + "…"


def render(verdict: Verdict) -> list[str]:
    """The summary table as text lines."""
    lines = [f"{'rule':<23} {'subject':<34} {'stores':<12} {'result':<8} alert", "-" * 90]
    for planted, alert in verdict.found:
        result = "found" if alert else "MISSING"
        where = f"#{alert.id} {alert.severity} ({alert.state})" if alert else "-"
        lines.append(f"{planted.rule.value:<23} {_short(planted.subject):<34} {','.join(planted.stores):<12} "
                     f"{result:<8} {where}")
    for alert in verdict.unexplained:
        lines.append(f"{alert.rule:<23} {_short(alert.subject):<34} {alert.stores:<12} {'FALSE':<8} "
                     f"#{alert.id} {alert.severity} ({alert.state}): no planted pattern explains it")
    found = sum(1 for _, alert in verdict.found if alert)
    lines.append("-" * 90)
    lines.append(f"planted patterns found: {found}/{len(verdict.found)}; false alerts: {len(verdict.unexplained)}; "
                 f"verdict: {'OK' if verdict.ok else 'FAILED'}")
    return lines


def read_alerts(ledger: Path) -> list[AlertRow]:
    """Every alert in the collector's ledger (any state), read-only."""
    if not ledger.exists():
        return []
    conn = sqlite3.connect(f"file:{ledger}?mode=ro", uri=True, timeout=30)
    try:
        rows = conn.execute("SELECT id, rule, subject, state, severity, stores FROM alerts ORDER BY id").fetchall()
    except sqlite3.OperationalError:  # not created yet
        return []
    finally:
        conn.close()
    return [AlertRow(int(i), str(rule), str(subject), str(state), str(severity), _stores(stores))
            for i, rule, subject, state, severity, stores in rows]


def _stores(value: object) -> str:
    text = str(value)
    if text.startswith("["):  # stored as a JSON list
        return ",".join(json.loads(text))
    return text
