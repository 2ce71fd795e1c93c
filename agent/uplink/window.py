"""Pure bookkeeping of batches in flight: acknowledge in seq order, whatever order PUBACKs arrive in.

MQTT QoS 1 lets a broker acknowledge in the order it received (MQTT 3.1.1 §4.6), but a resend
after reconnect, or a broker that deviates, may not: the outbox watermark only ever moves over a
contiguous run of acknowledged batches, so a later batch is never marked sent before an earlier one.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from agent.outbox import PendingEvent


@dataclass
class Flight:
    first_seq: int
    last_seq: int
    acked: bool = False


class InflightWindow:
    """Batches published on the current connection, oldest first, keyed by MQTT message id."""

    def __init__(self) -> None:
        self._flights: OrderedDict[int, Flight] = OrderedDict()

    def __len__(self) -> int:
        return len(self._flights)

    @property
    def first_seq(self) -> int | None:
        """The lowest seq still in flight (None when nothing is in flight)."""
        return next(iter(self._flights.values())).first_seq if self._flights else None

    @property
    def last_seq(self) -> int | None:
        """The highest seq handed to the broker on this connection (None when nothing is in flight)."""
        return next(reversed(self._flights.values())).last_seq if self._flights else None

    def add(self, mid: int, first_seq: int, last_seq: int) -> None:
        if mid in self._flights:
            raise ValueError(f"Expected a new MQTT message id, got {mid} already in flight.")
        self._flights[mid] = Flight(first_seq, last_seq)

    def ack(self, mid: int) -> int | None:
        """Record a PUBACK; return the new contiguous watermark, or None if it did not move."""
        flight = self._flights.get(mid)
        if flight is None:
            return None  # a PUBACK for a message of an earlier connection or the status: ignore
        flight.acked = True
        watermark = None
        while self._flights:
            oldest_mid, oldest = next(iter(self._flights.items()))
            if not oldest.acked:
                break
            watermark = oldest.last_seq
            del self._flights[oldest_mid]
        return watermark


def take_batch(pending: Sequence[PendingEvent], max_count: int, max_bytes: int) -> list[PendingEvent]:
    """The longest prefix within `max_count` events and `max_bytes` of bodies (at least one event)."""
    batch: list[PendingEvent] = []
    size = 0
    for event in pending[:max_count]:
        if batch and size + len(event.body) + 1 > max_bytes:
            break
        batch.append(event)
        size += len(event.body) + 1
    return batch
