"""Business rules a shop puts on any recommendation list, as one typed, hashable object.

A *target* (of a boost or a bury) is an item id, or ``category:<query>`` for every item whose
category matches the query (a path prefix or any level's name, as the ``category`` filter).

>>> rules = Rules(in_stock=True, pin=(("sku-9", 1),), boost=(("category:Phones", 2.0),),
...               bury=("sku-3",), diversity=0.3)
>>> rules.active, rules.reorders
(True, True)
>>> Rules.parse(pin=["sku-9@1"], boost=["category:Phones=2"], bury=["sku-3"]).pin
(('sku-9', 1),)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from shopmind.errors import DataError

__all__ = ["Rules"]


def _pairs(value) -> tuple:
    if value is None:
        return ()
    items = value.items() if isinstance(value, Mapping) else value
    return tuple((str(k), v) for k, v in items)


@dataclass(frozen=True)
class Rules:
    """What a list may contain and how it is ordered beyond the model's scores.

    Filters (items that fail are never returned):
      ``in_stock``: only items with stock above zero (unknown stock passes);
      ``min_price`` / ``max_price``: only items with a known price in the range;
      ``category``: a category path prefix or the name of any level, case-insensitive.
    Ordering:
      ``pin``: ``(item_id, position)`` pairs, position 1 is the top; a pinned item sits there
      whatever its score, if it passes the filters (it may repeat something the user saw);
      ``boost``: ``(target, factor)`` pairs; the score is multiplied by ``factor`` (divided
      when negative, so a factor above 1 always raises an item and below 1 lowers it);
      ``bury``: targets that go below every item not buried (still listed if space is left);
      ``diversity``: 0 (off) to 1, the weight of "unlike what is already listed" against the
      score (maximal marginal relevance over the model's item similarity);
      ``max_per_category``: at most this many items of one category path (overflow goes last).
    """

    in_stock: bool = False
    min_price: float | None = None
    max_price: float | None = None
    category: str | None = None
    pin: tuple[tuple[str, int], ...] = ()
    boost: tuple[tuple[str, float], ...] = ()
    bury: tuple[str, ...] = ()
    diversity: float = 0.0
    max_per_category: int | None = None

    def __post_init__(self):
        set_ = object.__setattr__  # frozen: normalise once, here
        set_(self, "in_stock", bool(self.in_stock))
        set_(self, "category", (self.category or "").strip() or None)
        set_(self, "pin", tuple((i, int(p)) for i, p in _pairs(self.pin)))
        set_(self, "boost", tuple((t, float(f)) for t, f in _pairs(self.boost)))
        set_(self, "bury", tuple(str(t) for t in (self.bury or ())))
        for item, position in self.pin:
            if position < 1:
                raise DataError(f"pin {item!r}: position must be 1 or more (1 is the top), "
                                f"got {position}")
        for target, factor in self.boost:
            if not factor > 0 or factor == float("inf"):
                raise DataError(f"boost {target!r}: the factor must be a positive number "
                                f"(above 1 raises, below 1 lowers), got {factor}")
        if not 0.0 <= float(self.diversity) <= 1.0:
            raise DataError(f"diversity must be between 0 (off) and 1, got {self.diversity}")
        set_(self, "diversity", float(self.diversity))
        if self.max_per_category is not None and self.max_per_category < 1:
            raise DataError(f"max_per_category must be at least 1, got {self.max_per_category}")
        if (self.min_price is not None and self.max_price is not None
                and self.min_price > self.max_price):
            raise DataError(f"min_price ({self.min_price}) is above max_price ({self.max_price})")

    @property
    def filters(self) -> tuple:
        """The hard filters only (what decides whether an item may appear at all)."""
        return (self.in_stock, self.min_price, self.max_price, self.category)

    @property
    def active(self) -> bool:
        """Whether any rule is set."""
        return self != Rules()

    @property
    def reorders(self) -> bool:
        """Whether the order differs from the scores' (pins, boosts, buries, diversity)."""
        return bool(self.pin or self.boost or self.bury or self.diversity
                    or self.max_per_category)

    def with_category(self, category: str | None) -> Rules:
        """The same rules with another category filter."""
        return replace(self, category=category)

    @classmethod
    def parse(cls, *, pin: Iterable[str] = (), boost: Iterable[str] = (),
              bury: Iterable[str] = (), **rest) -> Rules:
        """Rules from command-line / query-string text: ``pin`` as ``ITEM@POSITION``, ``boost``
        as ``TARGET=FACTOR``, ``bury`` as ``TARGET``; the other fields as they are."""
        pins = []
        for text in pin or ():
            item, sep, position = text.rpartition("@")
            if not sep or not item or not position.strip().isdigit():
                raise DataError(f"pin {text!r}: write ITEM@POSITION, e.g. sku-1@1 (1 is the top)")
            pins.append((item, int(position)))
        boosts = []
        for text in boost or ():
            target, sep, factor = text.rpartition("=")
            try:
                value = float(factor)
            except ValueError:
                value = None
            if not sep or not target or value is None:
                raise DataError(f"boost {text!r}: write TARGET=FACTOR, e.g. sku-1=2 or "
                                f"category:Phones=1.5")
            boosts.append((target, value))
        return cls(pin=tuple(pins), boost=tuple(boosts), bury=tuple(bury or ()), **rest)
