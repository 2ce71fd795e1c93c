"""A one-line summary of an event's own fields for tables (plain text: templates escape it)."""

from __future__ import annotations

from drugtrace.events import (
    AnyEvent, CameraEvidence, Heartbeat, Override, PurchaseReturn, Receipt, Sale, SaleReturn, ScanRefused, Settlement,
    StockChange, Stocktake,
)


def _yuan(fen: int) -> str:
    return f"¥{fen / 100:.2f}"


def summary(event: AnyEvent | None) -> str:
    """`field value` pairs that matter for an auditor, by event type."""
    if event is None:
        return "?"
    parts: list[str] = []
    if isinstance(event, Receipt):
        parts = [f"supplier {event.supplier}", f"invoice {event.invoice}", f"product {event.product}"]
        if event.contains:
            parts.append(f"case of {len(event.contains)} boxes")
    elif isinstance(event, Sale):
        parts = [f"product {event.product}", f"line {event.line}", _yuan(event.price_fen)]
        if event.trdn_flag:
            parts.append(f"split pack {event.units}/{event.units_per_box}")
        if event.rx:
            parts.append("rx")
    elif isinstance(event, Settlement):
        required = sum(line.boxes_required for line in event.lines)
        coded = sum(line.codes for line in event.lines)
        parts = [f"setl_id {event.setl_id}", event.payment.value, _yuan(event.total_fen),
                 f"fund {_yuan(event.fund_fen)}", f"codes {coded}/{required}"]
        if event.person:
            parts.append(f"person {event.person[:12]}…")
    elif isinstance(event, SaleReturn):
        parts = [f"original doc {event.original_doc}", f"product {event.product}"]
        if event.setl_id:
            parts.append(f"setl_id {event.setl_id}")
    elif isinstance(event, (PurchaseReturn, Stocktake)):
        parts = [f"product {event.product}"]
    elif isinstance(event, StockChange):
        parts = [f"product {event.product}", event.change.value, event.reason]
    elif isinstance(event, Override):
        parts = [f"product {event.product}", f"missing {event.missing}", f"reason {event.reason}",
                 f"operator {event.operator}"]
    elif isinstance(event, ScanRefused):
        parts = [event.problem, f"raw {event.raw}", event.message]
    elif isinstance(event, Heartbeat):
        parts = [f"version {event.version}", f"outbox {event.outbox_depth}/{event.outbox_capacity}"]
    elif isinstance(event, CameraEvidence):
        parts = [f"setl_id {event.setl_id}", f"person in {event.frames_with_person}/{event.frames_analysed} frames",
                 f"people max {event.people_max}", f"camera {event.camera_health.value}"]
    code = getattr(event, "code", None)
    if code is not None and (code.batch or code.expiry):
        parts.append(f"batch {code.batch or '-'} expiry {code.expiry or '-'}")
    return " · ".join(p for p in parts if p)
