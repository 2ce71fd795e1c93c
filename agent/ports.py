"""The contract between the counter workflow and the agent's durable store (the outbox).

The counter core is pure; the service that drives it commits each document change together
with the events it produced through `EventStore.commit`, in one SQLite transaction. The
outbox assigns the per-store sequence numbers and content hashes, so the events handed in may
carry any `seq` (use 1) and an empty `hash`.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from drugtrace.events import AnyEvent


class LocalCodeState(enum.Enum):
    """What this store last did with a code (for the local checks of DOMAIN §3)."""

    IN_STOCK = "in_stock"  # received or stock-taken here
    SOLD = "sold"  # whole box sold here, not returned
    OPENED = "opened"  # split-pack sales started here
    RETURNED = "returned"  # sold, then brought back (back in stock)
    PURCHASE_RETURNED = "purchase_returned"
    DESTROYED = "destroyed"


@dataclass(frozen=True)
class DocumentRecord:
    """A counter document as the outbox keeps it: its state is opaque JSON owned by the workflow."""

    doc_id: str
    kind: str
    state: bytes
    closed: bool


@dataclass(frozen=True)
class FillLevel:
    """How full the outbox is; `nearly_full` is shown on the counter page and in heartbeats."""

    depth: int  # events not yet acknowledged by the broker
    capacity: int
    nearly_full: bool
    full: bool


class EventStore(Protocol):
    """What the counter service needs from the outbox."""

    def commit(self, document: DocumentRecord | None, events: Sequence[AnyEvent]) -> list[AnyEvent]:
        """Atomically save the document state and append the events; return them sealed with seq and hash.

        Raises agent.errors.OutboxFull (never drops) when the events do not fit.
        """
        ...

    def open_documents(self) -> list[DocumentRecord]:
        """Documents not yet closed, to resume after a restart."""
        ...

    def code_state(self, key: str) -> LocalCodeState | None:
        """This store's last state for a code identity key, or None if never seen here."""
        ...

    def fill_level(self) -> FillLevel: ...
