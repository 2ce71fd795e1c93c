"""The un-returned sales of one code while its history is replayed, kept so that a long history
(a cloned code sold thousands of times) costs time in proportion to its length, not its square.

Each sale gets a number that grows with insertion. A rule that fires adds every un-returned sale
to its evidence and remembers the number of the sale that made it fire (its mark); the next time
it fires, only sales numbered above the mark can be new to its evidence, because every older sale
still un-returned was already un-returned — and added — then.
"""

from __future__ import annotations

from collections.abc import Callable

from drugtrace.events import Sale, SaleReturn


_NONE = (0, 0, 0, 0)


def _counted(stats: tuple[int, int, int, int], sale: Sale) -> tuple[int, int, int, int]:
    """(whole sales, split sales, split units, smallest units per box) with `sale` added."""
    whole, split, units, per_box = stats
    if sale.trdn_flag == 0:
        return whole + 1, split, units, per_box
    return whole, split + 1, units + sale.units, min(per_box, sale.units_per_box) if per_box else sale.units_per_box


class ActiveSales:
    """Every un-returned sale of the code, overall and per store, numbered in replay order."""

    def __init__(self) -> None:
        self.all: dict[int, Sale] = {}
        self.by_store: dict[str, dict[int, Sale]] = {}
        self._stats: dict[str, tuple[int, int, int, int]] = {}  # store → (whole, split, units, min units/box)
        self._marks: dict[object, int] = {}
        self.count = 0

    def __bool__(self) -> bool:
        return bool(self.all)

    def next_number(self) -> int:
        return self.count + 1

    def elsewhere(self, store: str) -> bool:
        """True when a sale at another store than `store` is un-returned."""
        return len(self.by_store) > 1 or (len(self.by_store) == 1 and store not in self.by_store)

    def repeat_rule_input(self, store: str) -> tuple[int, int, int, int] | None:
        """(whole sales, split sales, split units, smallest units per box) un-returned at `store`."""
        return self._stats.get(store)

    def add(self, sale: Sale) -> None:
        self.count += 1
        self.all[self.count] = sale
        self.by_store.setdefault(sale.store, {})[self.count] = sale
        self._stats[sale.store] = _counted(self._stats.get(sale.store, _NONE), sale)

    def close(self, ret: SaleReturn) -> list[Sale]:
        """Remove and return the sales a sale return closes: those of its original document (at
        its store first), else the latest un-returned sale at its store."""
        same_doc = [(n, s) for n, s in self.all.items() if s.doc == ret.original_doc]
        chosen = [(n, s) for n, s in same_doc if s.store == ret.store] or same_doc
        if not chosen:
            here = self.by_store.get(ret.store)
            chosen = [next(reversed(here.items()))] if here else []
        for number, sale in chosen:
            del self.all[number]
            at_store = self.by_store[sale.store]
            del at_store[number]
            if at_store:
                self._restat(sale.store)
            else:
                del self.by_store[sale.store]
                del self._stats[sale.store]
        return [sale for _, sale in chosen]

    def _restat(self, store: str) -> None:
        stats = _NONE
        for sale in self.by_store[store].values():
            stats = _counted(stats, sale)
        self._stats[store] = stats

    def add_new_to(self, add: Callable[[Sale], None], mark_key: object, store: str | None = None) -> None:
        """Hand `add` every un-returned sale (at `store`, or anywhere) not yet handed over under
        `mark_key`, then move the mark to the sale about to be added."""
        sales = self.all if store is None else self.by_store.get(store, {})
        mark = self._marks.get(mark_key, 0)
        for number in reversed(sales):
            if number <= mark:
                break
            add(sales[number])
        self._marks[mark_key] = self.count + 1
