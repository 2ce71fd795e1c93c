"""Ingest counters shared between the ingest worker and the metrics endpoint (thread-safe)."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from dataclasses import dataclass, field

from collector.store.base import AlertChanges, NewEvent


@dataclass
class IngestStats:
    """Totals since start; the metrics endpoint turns them into Prometheus counters and gauges."""

    messages: int = 0
    events_new: int = 0
    events_duplicate: int = 0
    quarantined: int = 0
    statuses: int = 0
    batches: int = 0
    failures: int = 0  # transactions that failed and were retried
    alerts_opened: int = 0
    alerts_withdrawn: int = 0
    lag_seconds_sum: float = 0.0
    lag_seconds_last: float = 0.0  # of the newest event of the last batch
    stored_upto: int = 0  # position of the newest event this process committed
    by_type: Counter[str] = field(default_factory=Counter)
    restarts: Counter[str] = field(default_factory=lambda: Counter({"decoder": 0, "evaluator": 0}))
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, messages: int, new: list[NewEvent], duplicates: int, quarantined: int, statuses: int,
               alerts: AlertChanges, now: dt.datetime, upto: int = 0) -> None:
        lags = [(now - dt.datetime.fromisoformat(e.at)).total_seconds() for e in new]
        with self._lock:
            self.messages += messages
            self.events_new += len(new)
            self.events_duplicate += duplicates
            self.quarantined += quarantined
            self.statuses += statuses
            self.batches += 1
            self.stored_upto = max(self.stored_upto, upto)
            self.alerts_opened += alerts.opened
            self.alerts_withdrawn += alerts.withdrawn
            self.lag_seconds_sum += sum(lags)
            if lags:
                self.lag_seconds_last = min(lags)
            self.by_type.update(e.type for e in new)

    def evaluated(self, alerts: AlertChanges) -> None:
        """A round of the evaluator process committed these alert changes."""
        with self._lock:
            self.alerts_opened += alerts.opened
            self.alerts_withdrawn += alerts.withdrawn

    def restarted(self, process: str) -> None:
        """A child process (`decoder`, `evaluator`) died and a new one was started."""
        with self._lock:
            self.restarts[process] += 1

    def failed(self) -> None:
        with self._lock:
            self.failures += 1

    def snapshot(self) -> dict[str, float]:
        with self._lock:
            values: dict[str, float] = {k: v for k, v in vars(self).items() if isinstance(v, (int, float))}
            values.update({f"type:{k}": v for k, v in self.by_type.items()})
            values.update({f"restarts:{k}": v for k, v in self.restarts.items()})
            return values
