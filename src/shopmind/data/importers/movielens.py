"""MovieLens 100k in GroupLens' original layout (``u.data``, ``u.item``, ``u.user``, ``u.genre``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from shopmind.data.batch import Batch
from shopmind.errors import InputError, SchemaError

__all__ = ["read_movielens_100k"]


def _read_delimited(path: Path, sep: str, names: list[str], encoding: str) -> pd.DataFrame:
    if not path.is_file():
        raise SchemaError(str(path), None, None, "file not found (is this a MovieLens 100k folder?)")
    rows, lines = [], []
    with path.open(encoding=encoding) as fh:
        for n, text in enumerate(fh, start=1):
            text = text.rstrip("\r\n")
            if not text:
                continue
            parts = text.split(sep)
            if len(parts) < len(names):
                raise InputError(str(path), n, names[len(parts)] if parts else names[0],
                                 f"expected {len(names)} fields separated by {sep!r}, "
                                 f"got {len(parts)}")
            rows.append(parts[:len(names)] + [parts[len(names):]])
            lines.append(n)
    frame = pd.DataFrame(rows, columns=names + ["_rest"])
    frame["_line"] = lines
    return frame


def read_movielens_100k(directory: str | Path) -> Batch:
    """Items (movies, genres as category), users (age, gender, occupation) and rating events."""
    d = Path(directory)
    genres = _read_delimited(d / "u.genre", "|", ["name", "index"], "latin-1")
    genre_names = genres.sort_values("index", key=lambda s: s.astype(int))["name"].tolist()
    movies = _read_delimited(d / "u.item", "|", ["item_id", "title", "release_date", "video",
                                                  "url"], "latin-1")
    flags = np.array([r[: len(genre_names)] for r in movies["_rest"]], dtype=object)
    if flags.shape != (len(movies), len(genre_names)):
        raise InputError(str(d / "u.item"), None, "genres",
                         f"every movie needs {len(genre_names)} genre flags")
    on = flags == "1"
    movie_genres = [[g for g, f in zip(genre_names, row) if f] for row in on]
    items = pd.DataFrame({
        "item_id": movies["item_id"],
        "title": movies["title"],
        "category": ["Movies > " + (g[0] if g else "unknown") for g in movie_genres],
        "attributes": [{"genres": g, "release_date": r or None, "imdb_url": u or None}
                       for g, r, u in zip(movie_genres, movies["release_date"], movies["url"])],
        "language": "en",
        "_line": movies["_line"],
    })
    people = _read_delimited(d / "u.user", "|", ["user_id", "age", "gender", "occupation", "zip"],
                             "latin-1")
    users = pd.DataFrame({
        "user_id": people["user_id"],
        "attributes": [{"age": int(a) if a.isdigit() else a, "gender": g, "occupation": o,
                        "zip": z} for a, g, o, z in zip(people["age"], people["gender"],
                                                         people["occupation"], people["zip"])],
        "_line": people["_line"],
    })
    ratings = _read_delimited(d / "u.data", "\t", ["user_id", "item_id", "value", "ts"], "latin-1")
    events = ratings.drop(columns="_rest").assign(
        type="rating",
        idempotency_key="ml100k:" + ratings["user_id"] + ":" + ratings["item_id"])
    sources = {"items": str(d / "u.item"), "users": str(d / "u.user"),
               "events": str(d / "u.data")}
    return Batch.from_frames(sources=sources, items=items, users=users, events=events)
