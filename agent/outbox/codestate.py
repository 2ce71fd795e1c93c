"""Which local code state each event leaves behind (pure; DOMAIN §3's "already sold here")."""

from __future__ import annotations

from agent.ports import LocalCodeState
from drugtrace.events import (
    AnyEvent, PurchaseReturn, Receipt, Sale, SaleReturn, StockChange, StockChangeKind, Stocktake,
)

_STOCK_CHANGE = {
    StockChangeKind.LOSS: LocalCodeState.DESTROYED,
    StockChangeKind.DESTROYED: LocalCodeState.DESTROYED,
    StockChangeKind.DAMAGED: LocalCodeState.DESTROYED,
}


def transitions(event: AnyEvent) -> list[tuple[str, LocalCodeState]]:
    """(code key, new state) pairs the event implies at this store; empty for other events."""
    if isinstance(event, (Receipt, Stocktake)):
        keys = [event.code.key, *(event.contains if isinstance(event, Receipt) else [])]
        return [(key, LocalCodeState.IN_STOCK) for key in keys]
    if isinstance(event, Sale):
        if event.code is None:
            return []
        return [(event.code.key, LocalCodeState.OPENED if event.trdn_flag == 1 else LocalCodeState.SOLD)]
    if isinstance(event, SaleReturn):
        return [(event.code.key, LocalCodeState.RETURNED)]
    if isinstance(event, PurchaseReturn):
        return [(event.code.key, LocalCodeState.PURCHASE_RETURNED)]
    if isinstance(event, StockChange):
        state = _STOCK_CHANGE.get(event.change)
        return [] if state is None else [(event.code.key, state)]
    return []
