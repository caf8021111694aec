"""A validated set of rows to ingest in one all-or-nothing transaction."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import pandas as pd

from shopmind.data.validate import drop_identical_duplicates, split_orders, validate_entity

__all__ = ["Batch", "IngestReport"]

ENTITY_KEYS = {
    "items": ["item_id"],
    "users": ["user_id"],
    "events": ["idempotency_key"],
    "reviews": ["review_id"],
}


@dataclass
class Batch:
    """Clean frames per table plus, per entity, the name of the source they came from.

    Build it with :meth:`from_frames`, which validates raw rows; the store trusts a Batch.
    """

    items: pd.DataFrame | None = None
    users: pd.DataFrame | None = None
    events: pd.DataFrame | None = None
    reviews: pd.DataFrame | None = None
    orders: pd.DataFrame | None = None
    order_lines: pd.DataFrame | None = None
    sources: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_frames(cls, sources: dict[str, str] | None = None, **raw: pd.DataFrame) -> Batch:
        """Validate raw frames given by entity name (items=…, events=…, orders=… one row per line).

        ``sources`` names where each came from (a file name) for error messages.
        """
        sources = dict(sources or {})
        batch = cls(sources=sources)
        for entity, frame in raw.items():
            if frame is None:
                continue
            if entity not in ("items", "users", "events", "reviews", "orders"):
                raise TypeError(f"unknown entity {entity!r}")
            source = sources.setdefault(entity, entity)
            clean = validate_entity(frame, entity, source)
            if entity == "orders":
                batch.orders, batch.order_lines = split_orders(clean, source)
            else:
                setattr(batch, entity, drop_identical_duplicates(clean, ENTITY_KEYS[entity], source))
        return batch

    def source(self, entity: str) -> str:
        return self.sources.get(entity, entity)


@dataclass
class IngestReport:
    """What an ingest did, per table: rows inserted, updated and already present unchanged."""

    inserted: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)

    def add(self, table: str, inserted: int = 0, updated: int = 0, unchanged: int = 0) -> None:
        for name, n in (("inserted", inserted), ("updated", updated), ("unchanged", unchanged)):
            counts = getattr(self, name)
            counts[table] = counts.get(table, 0) + n

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {f.name: dict(getattr(self, f.name)) for f in fields(self)}
