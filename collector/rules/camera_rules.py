"""Rules 12-17: camera-verified swipe anomalies (DOMAIN §5), pure and order-free.

Inputs are wire events: insurance `Settlement`s, the `CameraEvidence` the agent summarised for
each (matched by store and `setl_id`) and the `Sale`s of the settled document (matched by store
and `doc`). `swipes()` pairs them; the hits depend only on the *set* of events (repeats of one
(store, id) count once, the evidence of a settlement is the one with the smallest id), so a
settlement and its evidence arriving in either order, or twice, give the same hits.

A settlement without camera evidence (a store without a camera, or evidence still on its way)
is not judged by these rules (rule 10 still judges its collection); self-pay settlements neither.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from collector.rules.model import Hit, Rule, Severity, settlement_subject, store_hour_subject
from collector.rules.settings import DEFAULT_SETTINGS, RuleSettings
from drugtrace.codes import classify
from drugtrace.events import CameraEvidence, Health, Payment, Sale, Settlement

__all__ = ["Swipe", "swipes", "evaluate_swipe", "evaluate_store_swipes", "evaluate_camera", "footfall", "seen_keys"]


@dataclass(frozen=True)
class Swipe:
    """One insurance settlement with what the camera saw around it and the boxes its sale sold."""

    settlement: Settlement
    evidence: CameraEvidence | None = None
    sales: tuple[Sale, ...] = ()

    @property
    def subject(self) -> str:
        return settlement_subject(self.settlement.store, self.settlement.setl_id)

    @property
    def camera_ok(self) -> bool:
        """Evidence exists and the camera was working for the whole window."""
        return self.evidence is not None and self.evidence.camera_health is Health.OK

    def proof(self, *more: str) -> tuple[str, ...]:
        ids = {self.settlement.id, *more}
        if self.evidence is not None:
            ids.add(self.evidence.id)
        return tuple(sorted(ids))


def swipes(events: Iterable[object]) -> list[Swipe]:
    """Insurance settlements paired with their camera evidence and sales, in (store, time, id) order.

    Events of other types are ignored; repeats of one (store, id) are one event."""
    unique: dict[tuple[str, str], object] = {}
    for event in events:
        if isinstance(event, (Settlement, CameraEvidence, Sale)):
            unique.setdefault((event.store, event.id), event)
    evidence: dict[tuple[str, str], CameraEvidence] = {}
    sales: dict[tuple[str, str], list[Sale]] = {}
    settlements: list[Settlement] = []
    for event in unique.values():
        if isinstance(event, CameraEvidence):
            key = (event.store, event.setl_id)
            if key not in evidence or event.id < evidence[key].id:
                evidence[key] = event
        elif isinstance(event, Sale):
            sales.setdefault((event.store, event.doc), []).append(event)
        elif isinstance(event, Settlement) and event.payment is Payment.INSURANCE:
            settlements.append(event)
    settlements.sort(key=lambda s: (s.store, s.at, s.id))
    return [Swipe(s, evidence.get((s.store, s.setl_id)),
                  tuple(sorted(sales.get((s.store, s.doc), []), key=lambda e: (e.line, e.id))))
            for s in settlements]


def seen_keys(evidence: CameraEvidence) -> frozenset[str]:
    """Identity keys of the traceability codes the camera decoded (texts that are not codes are left out).

    >>> ev = CameraEvidence(id="e", store="S", seq=1, at=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),
    ...     setl_id="X", window_start=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),
    ...     window_end=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc), frames_analysed=1, frames_with_person=1,
    ...     people_max=1, codes_seen=["81234567890123456789", "6901234567892"])
    >>> sorted(seen_keys(ev))
    ['81234567890123456789']
    """
    keys = (classify(text).identity_key for text in evidence.codes_seen)
    return frozenset(key for key in keys if key is not None)


def _nobody(swipe: Swipe, settings: RuleSettings) -> Hit | None:
    ev = swipe.evidence
    if ev is None or not swipe.camera_ok or ev.frames_analysed < settings.camera_min_frames or ev.frames_with_person:
        return None
    return _hit(Rule.SWIPE_NOBODY, swipe, swipe.proof(),
                f"insurance settlement {swipe.settlement.setl_id}: no person at the counter in any of "
                f"{ev.frames_analysed} frames from {_clock(ev.window_start)} to {_clock(ev.window_end)}")


def _without_scan(swipe: Swipe) -> Hit | None:
    if swipe.evidence is None:  # camera-verified: without a camera, rule 10 judges the store's collection
        return None
    needing = [line for line in swipe.settlement.lines if line.boxes_required > 0 and not line.exempt]
    if not needing or any(line.codes > 0 for line in needing):
        return None
    boxes = sum(line.boxes_required for line in needing)
    overridden = sum(1 for line in needing if line.overridden)
    ev = swipe.evidence
    blind_too = swipe.camera_ok and not ev.codes_seen
    detail = (f"insurance settlement {swipe.settlement.setl_id}: no code scanned for {boxes} box(es) on "
              f"{len(needing)} line(s) that require codes"
              + (f" ({overridden} overridden)" if overridden else "")
              + ("; the camera saw no code either" if blind_too else ""))
    return _hit(Rule.SWIPE_WITHOUT_SCAN, swipe, swipe.proof(), detail,
                severity=Rule.SWIPE_WITHOUT_SCAN.severity if not blind_too else Rule.SWIPE_NOBODY.severity)


def _unseen(swipe: Swipe, settings: RuleSettings) -> Hit | None:
    ev = swipe.evidence
    if ev is None or not swipe.camera_ok:
        return None
    seen = seen_keys(ev)
    if not seen:  # the camera decoded nothing at all: it says nothing about these codes
        return None
    unseen = [sale for sale in swipe.sales if sale.code is not None and sale.code.key not in seen]
    if len({sale.code.key for sale in unseen if sale.code is not None}) < settings.unseen_min_codes:
        return None
    sold = len({sale.code.key for sale in swipe.sales if sale.code is not None})
    return _hit(Rule.UNSEEN_CODES, swipe, swipe.proof(*(sale.id for sale in unseen)),
                f"insurance settlement {swipe.settlement.setl_id}: {len(unseen)} of {sold} code(s) sold were never "
                f"seen by the camera, which read {len(seen)} other code(s) in the window")


def _blind(swipe: Swipe) -> Hit | None:
    ev = swipe.evidence
    if ev is None or ev.camera_health is Health.OK:
        return None
    return _hit(Rule.CAMERA_BLIND, swipe, swipe.proof(),
                f"insurance settlement {swipe.settlement.setl_id}: camera {ev.camera_health.value} "
                f"from {_clock(ev.window_start)} to {_clock(ev.window_end)}")


def evaluate_swipe(swipe: Swipe, settings: RuleSettings = DEFAULT_SETTINGS) -> list[Hit]:
    """Rules 12-15 on one settlement (subject `settlement:{store}:{setl_id}`), in rule order."""
    found = [_nobody(swipe, settings), _without_scan(swipe), _unseen(swipe, settings), _blind(swipe)]
    return [hit for hit in found if hit is not None]


def _single_person(swipe: Swipe) -> bool:
    ev = swipe.evidence
    return (ev is not None and swipe.camera_ok and ev.people_max == 1 and ev.frames_with_person > 0
            and swipe.settlement.person is not None)


def _clusters(store_swipes: Sequence[Swipe], settings: RuleSettings) -> list[Hit]:
    """Rule 16: windows of `cluster_window` holding `cluster_min_persons` pseudonyms, each settled while
    the camera saw exactly one person; overlapping windows form one cluster, named by its first settlement."""
    window = settings.cluster_window
    single = [s for s in store_swipes if _single_person(s)]
    marked: set[int] = set()
    end = 0
    for start, first in enumerate(single):
        end = max(end, start)
        while end + 1 < len(single) and single[end + 1].settlement.at - first.settlement.at <= window:
            end += 1
        persons = {s.settlement.person for s in single[start:end + 1]}
        if len(persons) >= settings.cluster_min_persons:
            marked.update(range(start, end + 1))
    hits: list[Hit] = []
    group: list[Swipe] = []
    for index in sorted(marked):
        if group and single[index].settlement.at - group[-1].settlement.at > window:
            hits.append(_cluster_hit(group, settings))
            group = []
        group.append(single[index])
    if group:
        hits.append(_cluster_hit(group, settings))
    return hits


def _cluster_hit(group: list[Swipe], settings: RuleSettings) -> Hit:
    first, last = group[0].settlement, group[-1].settlement
    persons = len({s.settlement.person for s in group})
    proof = tuple(sorted({i for s in group for i in s.proof()}))
    minutes = (last.at - first.at).total_seconds() / 60
    return Hit(rule=Rule.CLUSTERED_SWIPES, severity=Rule.CLUSTERED_SWIPES.severity,
               subject=settlement_subject(first.store, first.setl_id), stores=(first.store,), code=None,
               evidence=proof,
               detail=(f"{len(group)} insurance settlements of {persons} different insured persons within "
                       f"{minutes:.1f} minutes from {_clock(first.at)}, the camera seeing one person each time "
                       f"(limit {settings.cluster_min_persons} persons in {settings.cluster_window_minutes:g} min)"))


def _hour(moment: dt.datetime, tz: dt.tzinfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%dT%H")


def footfall(store_swipes: Sequence[Swipe]) -> int:
    """People seen around these settlements: overlapping evidence windows are one visit, counted at
    the most people seen in any of them."""
    windows = sorted((s.evidence.window_start, s.evidence.window_end, s.evidence.people_max)
                     for s in store_swipes if s.evidence is not None)
    total = 0
    block_end: dt.datetime | None = None
    block_people = 0
    for start, end, people in windows:
        if block_end is not None and start <= block_end:
            block_end, block_people = max(block_end, end), max(block_people, people)
            continue
        total += block_people
        block_end, block_people = end, people
    return total + block_people


def _footfall(store_swipes: Sequence[Swipe], settings: RuleSettings) -> list[Hit]:
    """Rule 17, per local hour: settlements with working-camera evidence against the people seen."""
    hours: dict[str, list[Swipe]] = {}
    for swipe in store_swipes:
        if swipe.camera_ok:
            hours.setdefault(_hour(swipe.settlement.at, settings.tz), []).append(swipe)
    hits: list[Hit] = []
    for hour, group in sorted(hours.items()):
        people = footfall(group)
        if len(group) < settings.footfall_min_settlements or len(group) <= settings.footfall_ratio * max(people, 1):
            continue
        store = group[0].settlement.store
        hits.append(Hit(rule=Rule.SWIPES_VS_FOOTFALL, severity=Rule.SWIPES_VS_FOOTFALL.severity,
                        subject=store_hour_subject(store, hour), stores=(store,), code=None,
                        evidence=tuple(sorted({i for s in group for i in s.proof()})),
                        detail=(f"{len(group)} insurance settlements in the hour from {hour[-2:]}:00 but "
                                f"{people} person(s) seen by the camera (limit {settings.footfall_ratio:g}× "
                                f"people, from {settings.footfall_min_settlements} settlements)")))
    return hits


def evaluate_store_swipes(store_swipes: Sequence[Swipe], settings: RuleSettings = DEFAULT_SETTINGS) -> list[Hit]:
    """Rules 16 and 17 over one store's swipes (any order)."""
    ordered = sorted(store_swipes, key=lambda s: (s.settlement.at, s.settlement.id))
    return _clusters(ordered, settings) + _footfall(ordered, settings)


def evaluate_camera(events: Iterable[object], settings: RuleSettings = DEFAULT_SETTINGS) -> list[Hit]:
    """Rules 12-17 over a set of settlements, camera evidence and sales, sorted by (rule number, subject)."""
    paired = swipes(events)
    hits = [hit for swipe in paired for hit in evaluate_swipe(swipe, settings)]
    stores: dict[str, list[Swipe]] = {}
    for swipe in paired:
        stores.setdefault(swipe.settlement.store, []).append(swipe)
    for group in stores.values():
        hits.extend(evaluate_store_swipes(group, settings))
    return sorted(hits, key=lambda hit: (hit.rule.number, hit.subject))


def _hit(rule: Rule, swipe: Swipe, evidence: tuple[str, ...], detail: str, severity: Severity | None = None) -> Hit:
    return Hit(rule=rule, severity=severity or rule.severity, subject=swipe.subject,
               stores=(swipe.settlement.store,), code=None, evidence=evidence, detail=detail)


def _clock(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="seconds")
