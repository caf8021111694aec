"""One file per saved model: a ``.npz`` of plain arrays plus a JSON header, loadable without pickle.

Pickle would run code from the file on load; a model file is data, so it stays numbers and JSON.
Ids (strings or integers as the shop stores them) travel as JSON so their type survives.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from shopmind.errors import DataError

__all__ = ["write_model", "read_model", "ids_to_json", "ids_from_json"]

FORMAT_VERSION = 1
_HEADER = "__header__"


def _plain(value):
    """numpy scalars inside id arrays are not JSON serialisable; their Python values are."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot save an id of type {type(value).__name__}")


def ids_to_json(ids: np.ndarray) -> np.ndarray:
    return np.array(json.dumps(list(ids), default=_plain))


def ids_from_json(blob: np.ndarray) -> np.ndarray:
    values = json.loads(str(blob))
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def write_model(path: str | Path, kind: str, params: dict, arrays: dict[str, np.ndarray]) -> Path:
    """Write ``arrays`` and a header naming the model class and its constructor parameters."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = {"format": FORMAT_VERSION, "kind": kind, "params": params}
    with path.open("wb") as fh:  # a file handle keeps numpy from appending ".npz" to the name
        np.savez(fh, **{_HEADER: np.array(json.dumps(header))}, **arrays)
    return path


def read_model(path: str | Path) -> tuple[str, dict, dict[str, np.ndarray]]:
    """(kind, params, arrays) of a file written by :func:`write_model`."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"no saved model at {path}; train one and save it there first")
    with np.load(path, allow_pickle=False) as data:
        if _HEADER not in data.files:
            raise DataError(f"{path} is not a shopmind model file (no header)")
        header = json.loads(str(data[_HEADER]))
        arrays = {name: data[name] for name in data.files if name != _HEADER}
    if header.get("format") != FORMAT_VERSION:
        raise DataError(f"{path} has model format {header.get('format')}, this shopmind reads "
                        f"{FORMAT_VERSION}; retrain the model with this version")
    return header["kind"], header["params"], arrays
