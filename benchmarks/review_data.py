"""Finding and reading the review datasets of ``benchmarks/reviews.py`` (and its siblings).

The benchmark is run unchanged on sets we do not have, so the readers take the common shapes of
each layout rather than the exact files here, and a file they cannot read is named, not skipped
in silence:

* sentiment: ``reviews-zh/<name>/{train,dev,test}.csv`` — comma- or tab-separated, UTF-8 (with or
  without a byte-order mark) or GB18030; a text column (review / text / text_a / content /
  sentence / comment / reviewbody), a label column (label / sentiment / polarity) and, optional,
  the product's category (cat / category / product_category). A set without test.csv is
  evaluated on dev.csv.
* aspects: ``absa/<name>/`` files paired by the words train / test in their names, each one of
  - 3-line records: sentence with ``$T$``, aspect term, polarity (Chinese with characters
    separated by spaces is rejoined);
  - SemEval XML (``<sentence><text>`` with ``<aspectTerm term= polarity=>``, as in SemEval-14 and
    MAMS; ``conflict`` left out, as published results do);
  - a CSV of (text, aspect, polarity) rows;
  - a CSV of review text with aspect-category columns valued -2/-1/0/1 (Meituan ASAP), read as
    (review, category) pairs with -2 (not mentioned) left out.
"""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET
from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd

TEXT_COLUMNS = ("review", "text", "text_a", "content", "sentence", "comment", "reviewbody")
LABEL_COLUMNS = ("label", "sentiment", "polarity")
CATEGORY_COLUMNS = ("cat", "category", "product_category")  # optional: the product's category
ASPECT_COLUMNS = ("aspect", "term", "target", "aspect_term", "aspect_category")
_ENCODINGS = ("utf-8-sig", "gb18030")
# spaces between Chinese characters (and the $T$ marker standing for a Chinese term) are the
# tokenisation of the file, not the writer's: 「精 妙 的 $T$」 is 「精妙的$T$」
_SPACED_CJK = re.compile(r"(?:(?<=[\u3400-\u9fff])|(?<=\$T\$))\s+(?=[\u3400-\u9fff])|"
                         r"(?<=[\u3400-\u9fff])\s+(?=\$T\$)")


class UnreadableFile(ValueError):
    """A dataset file in none of the shapes the readers know; the message says what was seen."""


def read_text(path: Path) -> str:
    for encoding in _ENCODINGS:
        try:
            return path.read_text(encoding=encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableFile(f"{path}: neither UTF-8 nor GB18030 text")


def read_table(path: Path) -> pd.DataFrame:
    """A CSV or TSV file (the separator read off its header line) in UTF-8 or GB18030."""
    text = read_text(path)
    header = text.split("\n", 1)[0]
    sep = "\t" if header.count("\t") > header.count(",") else ","
    try:
        return pd.read_csv(StringIO(text), sep=sep)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise UnreadableFile(f"{path}: not a {'tab' if sep == chr(9) else 'comma'}-separated "
                             f"table ({error})") from error


def column(frame: pd.DataFrame, names: tuple[str, ...], what: str, path: Path) -> str:
    lower = {str(c).lower().strip("\ufeff").strip(): c for c in frame.columns}
    for name in names:
        if name in lower:
            return lower[name]
    raise UnreadableFile(f"{path}: no {what} column (looked for {', '.join(names)}; "
                         f"the file has {', '.join(map(str, frame.columns))})")


# --------------------------------------------------------------------------- sentiment


def find_folders(root: Path) -> tuple[list[Path], list[Path]]:
    """(sentiment dataset folders, aspect dataset folders) under ``root``."""
    def children(p: Path) -> list[Path]:
        return sorted(c for c in p.iterdir() if c.is_dir())

    sentiment, aspect = [], []
    if (root / "train.csv").exists():
        return [root], []
    if (root / "reviews-zh").is_dir():
        sentiment = [c for c in children(root / "reviews-zh") if (c / "train.csv").exists()]
    if (root / "absa").is_dir():
        aspect = children(root / "absa")
    if not sentiment and not aspect:  # root is reviews-zh/ or absa/ itself
        kids = children(root)
        sentiment = [c for c in kids if (c / "train.csv").exists()]
        aspect = [c for c in kids if c not in sentiment]
    return sentiment, aspect


def read_sentiment(path: Path, with_categories: bool = False):
    """(texts, labels) of a sentiment CSV; with ``with_categories`` also each row's product
    category (None for all when the file has no category column)."""
    frame = read_table(path)
    text = column(frame, TEXT_COLUMNS, "text", path)
    label = column(frame, LABEL_COLUMNS, "label", path)
    frame = frame.dropna(subset=[label])
    texts = frame[text].fillna("").astype(str).str.lstrip("\ufeff").tolist()
    labels = frame[label].to_numpy()
    if set(pd.unique(labels)) <= {0, 1}:
        labels = labels.astype(np.int64)
    if not with_categories:
        return texts, labels
    try:
        category = column(frame, CATEGORY_COLUMNS, "category", path)
    except UnreadableFile:
        return texts, labels, [None] * len(texts)
    return texts, labels, frame[category].tolist()


def sentiment_splits(folder: Path) -> tuple[list[Path], Path]:
    """(the files to fit on, the file to evaluate on): train (+ dev) and test; a set without
    test.csv is evaluated on dev.csv."""
    train, dev, test = (folder / f"{part}.csv" for part in ("train", "dev", "test"))
    if test.exists():
        return [train] + ([dev] if dev.exists() else []), test
    if dev.exists():
        return [train], dev
    raise UnreadableFile(f"{folder}: neither test.csv nor dev.csv to evaluate on")


# --------------------------------------------------------------------------- aspects


def read_triples(path: Path) -> pd.DataFrame | None:
    """A 3-line-record file as (text, term, label); None when the file is not one."""
    try:
        lines = read_text(path).split("\n")
    except (UnreadableFile, OSError):
        return None
    while lines and not lines[-1].strip():
        lines.pop()
    if len(lines) < 3 or len(lines) % 3 or "$T$" not in lines[0]:
        return None
    rows = []
    for i in range(0, len(lines), 3):
        text, term, label = (s.strip() for s in lines[i:i + 3])
        rows.append((_SPACED_CJK.sub("", text), _SPACED_CJK.sub("", term), label))
    return pd.DataFrame(rows, columns=["text", "term", "label"])


def read_semeval_xml(path: Path) -> pd.DataFrame | None:
    """SemEval-style XML as (text, term, label); None when the file is not one. The aspect
    terms are read; a file without any (only aspect categories) gives (text, category) pairs."""
    try:
        root = ET.fromstring(read_text(path))
    except (UnreadableFile, OSError, ET.ParseError):
        return None
    kind = "./aspectTerms/aspectTerm" if root.find(".//aspectTerm") is not None else \
        "./aspectCategories/aspectCategory"
    rows = []
    for sentence in root.iter("sentence"):
        text = (sentence.findtext("text") or "").strip()
        for aspect in sentence.findall(kind):
            term = aspect.get("term") or aspect.get("category")
            polarity = aspect.get("polarity")
            if not (text and term and polarity) or polarity == "conflict":
                continue
            start, end = aspect.get("from"), aspect.get("to")
            marked = text  # the term marked where it stands, should it occur more than once
            if start and end and text[int(start):int(end)] == term:
                marked = text[:int(start)] + "$T$" + text[int(end):]
            rows.append((marked, term, polarity))
    return pd.DataFrame(rows, columns=["text", "term", "label"]) if rows else None


def read_aspect_table(path: Path) -> pd.DataFrame | None:
    """A CSV of (text, aspect, polarity) rows, or of review text with aspect-category columns
    valued -2/-1/0/1 (ASAP); None when the file is neither."""
    try:
        frame = read_table(path)
        text = column(frame, TEXT_COLUMNS, "text", path)
    except (UnreadableFile, OSError):
        return None
    try:
        aspect = column(frame, ASPECT_COLUMNS, "aspect", path)
        label = column(frame, LABEL_COLUMNS, "label", path)
        frame = frame.dropna(subset=[text, aspect, label])
        return pd.DataFrame({"text": frame[text].astype(str).to_numpy(),
                             "term": frame[aspect].astype(str).to_numpy(),
                             "label": frame[label].to_numpy()})
    except UnreadableFile:
        pass
    cats = [c for c in frame.columns if c != text and pd.api.types.is_numeric_dtype(frame[c])
            and set(pd.unique(frame[c].dropna())) <= {-2, -1, 0, 1}]
    if len(cats) < 2:
        return None
    long = frame.melt(id_vars=[text], value_vars=cats, var_name="term", value_name="label")
    long = long[long["label"] != -2]
    long["term"] = long["term"].str.replace("_", " ")
    return pd.DataFrame({"text": long[text].astype(str).to_numpy(),
                         "term": long["term"].to_numpy(),
                         "label": long["label"].astype(int).to_numpy()})


def read_aspects(path: Path) -> pd.DataFrame:
    for reader in (read_triples, read_semeval_xml, read_aspect_table):
        frame = reader(path)
        if frame is not None:
            return frame
    raise UnreadableFile(f"{path}: not 3-line $T$ records, SemEval XML, a (text, aspect, "
                         "polarity) CSV nor an aspect-category CSV")


def aspect_datasets(folder: Path) -> list[tuple[str, pd.DataFrame, pd.DataFrame]]:
    """(name, train, test) for every train/test pair of files in ``folder``; a pair that cannot
    be read is reported on stderr and left out, so one odd file does not stop the run."""
    def key(path: Path, split: str) -> str:
        stem = path.name.lower()
        return re.split(r"[._-]?" + split, stem)[0] or folder.name

    found: dict[str, dict[str, Path]] = {}
    for path in sorted(folder.iterdir()):
        name = path.name.lower()
        for split in ("train", "test"):
            if split in name and path.is_file():
                found.setdefault(key(path, split), {})[split] = path
    out = []
    complete = {k: p for k, p in found.items() if set(p) == {"train", "test"}}
    for k, pair in sorted(complete.items()):
        name = folder.name if len(complete) == 1 else f"{folder.name}/{k}"
        try:
            out.append((name, read_aspects(pair["train"]), read_aspects(pair["test"])))
        except UnreadableFile as error:
            print(f"!! {name} left out: {error}", file=sys.stderr, flush=True)
    return out
