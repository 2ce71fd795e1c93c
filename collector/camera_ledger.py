"""Camera rules (12-17) against the ledger: which settlements to re-judge when a settlement or a
camera evidence arrives, and which stills to ask the stores for.

Uses only the store's existing reads (`store_settlements`, `doc_events`), inside the ingest
transaction. For each store touched, the *core* range is the whole local hours of the new events;
the settlements of that range, plus `cluster_window` either side (rule 16 looks across the hour's
edges), are judged together with their sales and camera evidence. Hits about settlements and hours
in the core range are recorded; open alerts there that no hit supports any more are withdrawn. A
settlement and its evidence arriving in either order therefore end with the same alerts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import msgspec

from collector.rules import RuleSettings, Scope, evaluate_camera, settlement_subject, store_hour_subject
from collector.rules.model import Hit
from collector.stills import StillRequestOut, requests_for
from collector.store.base import LedgerStore, NewEvent
from drugtrace.events import AnyEvent, CameraEvidence, Payment, Settlement

__all__ = ["CameraJudgement", "judge_camera", "CAMERA_TYPES"]

CAMERA_TYPES = frozenset({"settlement", "camera_evidence"})
_decoder = msgspec.json.Decoder(AnyEvent)
_HOUR = dt.timedelta(hours=1)


@dataclass
class CameraJudgement:
    hits: list[Hit] = field(default_factory=list)
    withdraw: list[tuple[Scope, str]] = field(default_factory=list)
    evidence: list[CameraEvidence] = field(default_factory=list)

    def still_requests(self, have: Callable[[str, str], bool] = lambda store, sha: False) -> list[StillRequestOut]:
        """Stills to ask for: those cited by the hits (`have(store, sha)` says which are already kept)."""
        return requests_for(self.hits, self.evidence, have)


def _floor_hour(moment: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    return moment.astimezone(tz).replace(minute=0, second=0, microsecond=0)


def _ranges(new: Sequence[NewEvent], tz: dt.tzinfo) -> dict[str, tuple[dt.datetime, dt.datetime]]:
    ranges: dict[str, tuple[dt.datetime, dt.datetime]] = {}
    for row in new:
        if row.type not in CAMERA_TYPES:
            continue
        at = dt.datetime.fromisoformat(row.at)
        if row.type == "camera_evidence":  # summarised after the window: its settlement is up to minutes earlier
            event = row.event if row.event is not None else _decoder.decode(row.body)
            at = event.window_start if isinstance(event, CameraEvidence) else at
        start, end = _floor_hour(at, tz), _floor_hour(at, tz) + _HOUR
        if row.type == "camera_evidence":
            end = max(end, _floor_hour(dt.datetime.fromisoformat(row.at), tz) + _HOUR)
        known = ranges.get(row.store)
        ranges[row.store] = (min(start, known[0]), max(end, known[1])) if known else (start, end)
    return ranges


def judge_camera(store: LedgerStore, new: Sequence[NewEvent], settings: RuleSettings) -> CameraJudgement:
    """Rules 12-17 for the stores and hours the new settlements and camera evidence touch."""
    out = CameraJudgement()
    margin = settings.cluster_window
    for shop, (start, end) in sorted(_ranges(new, settings.tz).items()):
        settlements = [s for s in (_decoder.decode(b) for b in store.store_settlements(shop, start - margin,
                                                                                        end + margin))
                       if isinstance(s, Settlement)]
        docs = {(shop, s.doc) for s in settlements}
        events: list[object] = list(settlements)
        for bodies in store.doc_events(docs, ["sale", "camera_evidence"]).values():
            events.extend(_decoder.decode(body) for body in bodies)
        out.evidence.extend(e for e in events if isinstance(e, CameraEvidence))
        core = [s for s in settlements if start <= s.at < end and s.payment is Payment.INSURANCE]
        subjects = {settlement_subject(shop, s.setl_id) for s in core}
        hours = {store_hour_subject(shop, (start + k * _HOUR).astimezone(settings.tz).strftime("%Y-%m-%dT%H"))
                 for k in range(int((end - start) / _HOUR))}
        out.hits.extend(h for h in evaluate_camera(events, settings) if h.subject in subjects | hours)
        out.withdraw.extend([(Scope.SETTLEMENT, s) for s in sorted(subjects)]
                            + [(Scope.STORE_HOUR, h) for h in sorted(hours)])
    return out
