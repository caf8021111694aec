"""One router per capability; each capability package that lands adds its own here."""

from shopmind.api.routers import ingest, models, profiles, recommend, reviews, search, shop

__all__ = ["ingest", "models", "profiles", "recommend", "reviews", "search", "shop"]
