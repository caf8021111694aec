"""Model files of this package: one ``.npz`` of plain arrays plus a JSON header, no pickle.

Loading a model never runs code from the file. Vocabularies travel as one UTF-8 blob.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from shopmind.errors import DataError

__all__ = ["write_arrays", "read_arrays", "strings_to_array", "strings_from_array"]

FORMAT_VERSION = 1
_HEADER = "__header__"
_SEPARATOR = "\x00"


def strings_to_array(strings) -> np.ndarray:
    """Strings (none containing NUL) as one uint8 array."""
    return np.frombuffer(_SEPARATOR.join(strings).encode("utf-8"), dtype=np.uint8).copy()


def strings_from_array(blob: np.ndarray) -> list[str]:
    text = blob.tobytes().decode("utf-8")
    return text.split(_SEPARATOR) if text else []


def write_arrays(path: str | Path, kind: str, params: dict, arrays: dict[str, np.ndarray]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = {"format": FORMAT_VERSION, "kind": kind, "params": params}
    with path.open("wb") as fh:  # a file handle keeps numpy from appending ".npz"
        np.savez(fh, **{_HEADER: np.array(json.dumps(header, ensure_ascii=False))}, **arrays)
    return path


def read_arrays(path: str | Path, kind: str) -> tuple[dict, dict[str, np.ndarray]]:
    """(params, arrays) of a file written by :func:`write_arrays` for a model of ``kind``."""
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
    if header.get("kind") != kind:
        raise DataError(f"{path} holds a {header.get('kind')!r} model, not a {kind!r}")
    return header["params"], arrays
