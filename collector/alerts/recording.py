"""The ledger with the alert lifecycle: hits on a subject an auditor already closed.

The ledger (collector/store/sqlite.py) keeps one open alert per (rule, subject). When no alert of
a hit's (rule, subject) is open but the latest one was closed by an auditor:

- the hit brings no event that the closed alert did not already have: it was judged, nothing happens;
- the alert was dismissed and the hit brings new evidence: the alert is reopened (status new, a
  `reopen` record by the system, a `reopened` notification) and extended with the new events;
- the alert was confirmed and the hit brings new evidence: a new alert opens that `follows` it
  (the verdict stands; continued activity is a new case).

A withdrawn alert is never reopened: a later hit opens a new alert.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from pathlib import Path

from collector.alerts import persist, schema
from collector.alerts.lifecycle import SYSTEM, Status, reopen
from collector.notify import schema as notify_schema
from collector.rules.model import Hit, Scope, Severity
from collector.store.base import AlertChanges
from collector.store.sqlite import SQLiteLedger


def prepare(ledger: SQLiteLedger) -> None:
    """Apply the lifecycle and outbox migrations to an opened ledger (idempotent)."""
    schema.apply(ledger.conn)
    notify_schema.apply(ledger.conn)


# The index is named: left to itself SQLite picks the dashboard's alerts(rule) index and walks every
# alert of the rule, once per hit.
LATEST_ALERT_OF_SUBJECT = ("SELECT id, status, severity, stores FROM alerts INDEXED BY alerts_rule_subject_status"
                           " WHERE rule = ? AND subject = ? ORDER BY id DESC LIMIT 1")


class LifecycleLedger(SQLiteLedger):
    """A SQLiteLedger whose alert recording respects auditors' decisions (see the module doc)."""

    def __init__(self, path: Path, **options: object) -> None:
        super().__init__(path, **options)  # type: ignore[arg-type]
        prepare(self)

    def record_hits(self, hits: Sequence[Hit], now: dt.datetime,
                    *, withdraw: Iterable[tuple[Scope, str]] = ()) -> AlertChanges:
        kept = [hit for hit in hits if self._still_news(hit, now)]
        return super().record_hits(kept, now, withdraw=withdraw)

    def _still_news(self, hit: Hit, now: dt.datetime) -> bool:
        """False if the hit was already judged; reopens a dismissed alert that the hit brings news to."""
        row = self.conn.execute(LATEST_ALERT_OF_SUBJECT, (hit.rule.value, hit.subject)).fetchone()
        if row is None:
            return True
        alert_id, status_text, severity, stores_json = row
        status = Status(status_text)
        if status.is_open or status is Status.WITHDRAWN:
            return True
        known = {event for (event,) in self.conn.execute("SELECT event FROM alert_evidence WHERE alert = ?",
                                                         (alert_id,))}
        fresh = sorted(set(hit.evidence) - known)
        if not fresh:
            return False
        if status is Status.DISMISSED:
            shown = ", ".join(fresh[:5]) + (f" and {len(fresh) - 5} more" if len(fresh) > 5 else "")
            step = reopen(alert_id, status, SYSTEM, now, f"new evidence: {shown}")
            # severity and stores first, while it is closed, so that neither this nor the ledger's extension
            # below counts as an escalation: the reopening is the news
            merged = sorted(set(json.loads(stores_json)) | set(hit.stores))
            self.conn.execute("UPDATE alerts SET severity = ?, stores = ? WHERE id = ?",
                              (max(Severity(severity), hit.severity).value, json.dumps(merged), alert_id))
            persist.write(self.conn, step)
        return True
