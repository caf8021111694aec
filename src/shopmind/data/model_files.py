"""One file per saved model: a ``.npz`` of plain arrays plus a JSON header, loadable without pickle.

Pickle would run code from the file on load; a model file is data, so it stays numbers and JSON.
Ids (strings or integers as the shop stores them) travel as JSON so their type survives;
vocabularies travel as one UTF-8 blob. Every capability saves its models through this module.

>>> import tempfile, numpy as np
>>> path = Path(tempfile.mkdtemp()) / "m.npz"
>>> _ = write_model(path, "demo", {"k": 3}, {"ids": ids_to_json(np.array(["a", 7], dtype=object))})
>>> kind, params, arrays = read_model(path, "demo")
>>> kind, params, ids_from_json(arrays["ids"]).tolist()
('demo', {'k': 3}, ['a', 7])
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from shopmind.errors import DataError

__all__ = ["write_model", "read_model", "ids_to_json", "ids_from_json", "strings_to_array",
           "strings_from_array"]

FORMAT_VERSION = 1
_HEADER = "__header__"
_SEPARATOR = "\x00"


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


def strings_to_array(strings) -> np.ndarray:
    """Strings (none containing NUL) as one uint8 array: compact for large vocabularies."""
    return np.frombuffer(_SEPARATOR.join(strings).encode("utf-8"), dtype=np.uint8).copy()


def strings_from_array(blob: np.ndarray) -> list[str]:
    text = blob.tobytes().decode("utf-8")
    return text.split(_SEPARATOR) if text else []


def write_model(path: str | Path, kind: str, params: dict, arrays: dict[str, np.ndarray]) -> Path:
    """Write ``arrays`` and a header naming the model class and its constructor parameters."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = {"format": FORMAT_VERSION, "kind": kind, "params": params}
    with path.open("wb") as fh:  # a file handle keeps numpy from appending ".npz" to the name
        np.savez(fh, **{_HEADER: np.array(json.dumps(header, ensure_ascii=False))}, **arrays)
    return path


def read_model(path: str | Path, kind: str | None = None) -> tuple[str, dict, dict[str, np.ndarray]]:
    """(kind, params, arrays) of a file written by :func:`write_model`; with ``kind``, a file
    holding another kind of model is an error."""
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
    if kind is not None and header.get("kind") != kind:
        raise DataError(f"{path} holds a {header.get('kind')!r} model, not a {kind!r}")
    return header["kind"], header["params"], arrays
