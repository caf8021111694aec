"""Training search and review intelligence from a shop's store, versioned in the registry.

The engine's counterpart of :func:`shopmind.engine.train_recommenders` for the two text
capabilities; ``shopmind demo`` and the service's test shops call :func:`train_search_and_reviews`.

* **search** (``ProductSearch`` over the store's catalog): evaluated on a query-disjoint split
  of the shop's own search sessions — a search event's query and the item the searcher then
  opened (in the demo shop, the item the query was written for) are the judgments; the search is
  fitted on the other queries' judgments and scored by whole-catalog ``ndcg@10`` on the held-out
  queries, next to a keyword-only (BM25) fit on the same split; then it is refitted on every
  judgment and saved.
* **reviews** (``ReviewAnalyzer`` with the n-gram sentiment model): evaluated on a held-out
  share of the labelled reviews (labels, else star ratings mapped to polarity) by accuracy and
  macro-F1; then refitted on every review and saved. Each review's item category (its top
  level) reaches the model, which learns words whose polarity differs by category. Reviews
  the shop annotated with aspects (``{"battery": "positive"}``) train the aspect-term model
  that judges the terms asked of the analyzer; the same share of the annotated reviews is held out
  and judged with and without it (``aspect_model_accuracy``, ``aspect_lexicon_accuracy``, and
  macro-F1), and the model is kept only where it judged better. Where the annotations name
  categories absent from the text, the held-out reviews also score the category detector
  (``aspect_mention_precision``, ``_recall``, ``_f1``). The analyzer is a folder,
  the registry stores files, so it travels as one zip archive
  (:func:`unpack_analyzer` reads it back).

A capability's new version serves only if its primary metric (``ndcg@10`` for search,
``macro_f1`` for reviews) is not worse than the serving version's, as for recommenders.
"""

from __future__ import annotations

import io
import shutil
import tempfile
import time
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from shopmind.config import Settings
from shopmind.data import schema
from shopmind.errors import ConfigError
from shopmind.registry import ModelRegistry, decide_promotion

__all__ = ["SEARCH", "REVIEWS", "SEARCH_PROTOCOL", "REVIEWS_PROTOCOL", "train_search",
           "train_reviews", "aspect_model", "labelled_aspects", "register_capability",
           "train_search_and_reviews", "pack_analyzer", "unpack_analyzer", "PRIMARY"]

SEARCH = "search"
REVIEWS = "reviews"
PRIMARY = {SEARCH: "ndcg@10", REVIEWS: "macro_f1"}
SEARCH_PROTOCOL = ("query-disjoint split of the shop's search sessions (a quarter of the queries "
                   "held out): ndcg@10 over the whole catalog, gain 2^(rel-1)-1")
REVIEWS_PROTOCOL = ("{share} of the labelled reviews held out (labels, else star ratings as "
                    "polarity): accuracy and macro-F1 over positive / neutral / negative")
_MIN_REVIEWS = 20


def _judged(store) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(events with search context, judgments from them)."""
    from shopmind.search.judgments import judgments_from_events

    events = store.read_table("events", ["user_id", "item_id", "type", "session_id", "context"])
    return events, judgments_from_events(events)


def _search_ndcg(search, judgments: pd.DataFrame, k: int = 10) -> float:
    """Whole-catalog graded NDCG@k of ``search`` on the judged queries."""
    from shopmind.evaluate import graded_ndcg_at_k
    from shopmind.search import default_gain

    queries = judgments["query"].unique().tolist()
    if not queries:
        return float("nan")
    by_query = {q: dict(zip(g["item_id"], default_gain(g["relevance"].to_numpy(np.float64))))
                for q, g in judgments.groupby("query", sort=False)}
    results = search.search(queries, k=k, facets=False)
    ranked = [np.array([by_query[q].get(i, 0.0) for i in r.item_ids.tolist()])
              for q, r in zip(queries, results)]
    ideal = [np.array(list(by_query[q].values())) for q in queries]
    return graded_ndcg_at_k(ranked, ideal, k)


def train_search(store, settings: Settings, *, encoder=None, holdout: float = 0.25,
                 out_dir: str | Path | None = None):
    """Evaluate and fit the catalog's search (see the module docstring); returns an
    ``engine.TrainedModel`` whose ``path`` is the saved search (``search.npz``)."""
    from shopmind.engine import TrainedModel
    from shopmind.search import ProductSearch
    from shopmind.search.store_io import past_queries
    from shopmind.text.encoders import load_encoder

    items = store.items_frame()
    events, judgments = _judged(store)
    spec = settings.encoder if encoder is None else encoder
    # Loaded once, shared by every fit below (a model object saves as its name).
    enc = load_encoder(spec) if isinstance(spec, str) else spec
    params = {"cache_dir": settings.data_dir / "cache", "seed": settings.seed}
    metrics: dict = {"items": int(len(items)), "judged_queries": int(judgments["query"].nunique())}
    queries = judgments["query"].unique()
    if len(queries) >= 20:
        rng = np.random.default_rng(settings.seed)
        held = set(queries[rng.random(len(queries)) < holdout].tolist())
        train = judgments[~judgments["query"].isin(held)]
        test = judgments[judgments["query"].isin(held)]
        known = {q: c for q, c in past_queries(events).items() if q not in held}
        evaluated = ProductSearch(encoder=enc, **params).fit(items, judgments=train,
                                                             past_queries=known)
        metrics["ndcg@10"] = round(_search_ndcg(evaluated, test), 4)
        # The final search ranks the way the evaluated one did ("auto" could pick the learned
        # ranker on the full set and fusion on the smaller training part): the metric
        # describes the model that serves.
        params["ranker"] = "learned" if evaluated.ranker_ is not None else "fusion"
        baseline = ProductSearch(encoder=None, ranker="keyword", cache_dir=False).fit(
            items, judgments=train, past_queries=known)
        metrics["ndcg@10_keyword"] = round(_search_ndcg(baseline, test), 4)
        metrics["held_out_queries"] = len(held)
    start = time.perf_counter()
    final = ProductSearch(encoder=enc, **params).fit(
        items, judgments=judgments if len(judgments) else None,
        past_queries=past_queries(events))
    fit_seconds = time.perf_counter() - start
    folder = Path(out_dir) if out_dir is not None else Path(tempfile.mkdtemp(prefix="search-"))
    path = final.save(folder / "search.npz")
    protocol = SEARCH_PROTOCOL + f"; ranker: {params.get('ranker', 'auto')}"
    return TrainedModel("product-search", path, metrics, fit_seconds,
                        extra={"protocol": protocol})


def labelled_reviews(store) -> tuple[list[str], np.ndarray, list, str]:
    """Texts, polarities and item categories of the store's reviews: polarities from their
    labels when most reviews have one, else from their star ratings."""
    from shopmind.reviews import polarity_from_rating, to_polarity

    reviews = store.reviews_frame(with_categories=True)
    reviews = reviews[reviews["text"].fillna("").str.strip() != ""]
    labelled = reviews["label"].notna() if "label" in reviews else None
    if labelled is not None and labelled.any() and labelled.sum() >= 0.5 * len(reviews):
        reviews = reviews[labelled]
        y = to_polarity(reviews["label"].tolist(),
                        binary=set(reviews["label"].astype(str)) <= {"0", "1"})
        return (reviews["text"].tolist(), np.asarray(y, dtype=object),
                reviews["category"].tolist(), "labels")
    reviews = reviews[reviews["rating"].notna()]
    return (reviews["text"].tolist(), np.asarray(polarity_from_rating(reviews["rating"]),
                                                 dtype=object),
            reviews["category"].tolist(), "star ratings")


def labelled_aspects(store) -> pd.DataFrame:
    """One row per (review, aspect term, polarity) the shop annotated: review_id, text, term,
    polarity."""
    import json

    reviews = store.read_table("reviews", ["review_id", "text", "aspects"],
                               where=schema.reviews.c.aspects.is_not(None), order_by=["review_id"])
    rows = [(r.review_id, r.text, term, polarity) for r in reviews.itertuples()
            for term, polarity in json.loads(r.aspects).items()]
    return pd.DataFrame(rows, columns=["review_id", "text", "term", "polarity"])


def _fit_aspect_terms(analyzer, pairs: pd.DataFrame, held_out: set[str], sentiment,
                      spec: str, progress: Callable[[str], None] | None = None) -> dict:
    """Fit the analyzer's aspect-term model on the annotated pairs if it judges the held-out
    reviews' terms better than the analyzer without it; the metrics of both. Both are judged as
    the served analyzer would judge them, with a sentiment model (``sentiment``, or None) that
    has not seen the held-out reviews: where the lexicon finds no opinion near a term, the
    review's own verdict speaks for it, and a verdict learned from those reviews would flatter
    the lexicon."""
    from shopmind.reviews import ReviewAnalyzer

    if len(pairs) < _MIN_REVIEWS or pairs["polarity"].nunique() < 2:
        return {"aspect_pairs": len(pairs)} if len(pairs) else {}
    held = pairs["text"].isin(held_out).to_numpy()
    metrics = {"aspect_pairs": len(pairs), "aspect_held_out": int(held.sum())}
    train, test = pairs[~held], pairs[held]
    if len(test) and train["polarity"].nunique() >= 2:
        judge = ReviewAnalyzer(sentiment)
        lexicon = judge.term_scores(test["text"], test["term"], test["polarity"])
        judge.aspect_model = _reporting(aspect_model(spec), "aspect model for the held-out "
                                        "check", progress)
        judge.fit_terms(train["text"], train["term"], train["polarity"])
        model = judge.term_scores(test["text"], test["term"], test["polarity"])
        metrics.update({f"aspect_model_{k}": v for k, v in model.items()})
        metrics.update({f"aspect_lexicon_{k}": v for k, v in lexicon.items()})
        if judge.mention_model is not None:  # which held-out reviews speak of which category
            spoken = test.groupby("text", sort=False)["term"].agg(set)
            metrics.update({f"aspect_mention_{k}": v for k, v in judge.mention_model.score(
                spoken.index.tolist(), spoken.tolist()).items()})
        if model["accuracy"] <= lexicon["accuracy"]:
            return metrics
    analyzer.aspect_model = _reporting(aspect_model(spec), "aspect model on every annotated "
                                       "review", progress)
    analyzer.fit_terms(pairs["text"], pairs["term"], pairs["polarity"])
    if analyzer.mention_model is not None:
        metrics["aspect_categories_detected"] = len(analyzer.mention_model.categories_)
    return metrics


def _reporting(model, phase: str, progress: Callable[[str], None] | None):
    """``model``, telling ``progress`` how far its fine-tuning is (a fine-tuned transformer
    takes minutes to hours; the n-gram model, seconds, says nothing)."""
    if progress is not None and hasattr(model, "progress"):
        model.progress = lambda info: progress(
            f"{phase}: " + ("adapting the encoder" if info.get("stage") == "adapt" else
                            f"model {info['model']}/{info['models']}")
            + f", step {info['step']}/{info['total']}")
    return model


def aspect_model(spec: str):
    """The aspect-term model to fit on the shop's annotated reviews: ``"ngram"`` (None: the
    analyzer's default ``AspectTermClassifier``, seconds), ``"mpnet"`` or ``"minilm"`` (that
    packaged English encoder fine-tuned by its recipe in
    :func:`~shopmind.reviews.aspect_term_model`, as ``benchmarks/reviews.py --finetune`` does:
    tens of minutes on 2 CPU cores, far stronger on English than the n-gram model — see the
    README's results), or a local Hugging Face model directory fine-tuned the same way."""
    from shopmind.reviews import aspect_term_model
    from shopmind.text.encoders import PACKAGED_MINILM, PACKAGED_MPNET

    packaged = {"mpnet": PACKAGED_MPNET, "minilm": PACKAGED_MINILM}
    if spec == "ngram":
        return None
    if spec not in packaged and not Path(spec).is_dir():
        raise ConfigError(f"aspect model {spec!r} is neither 'ngram', 'mpnet', 'minilm' nor a "
                          "local model directory")
    return aspect_term_model(packaged.get(spec, spec))


def train_reviews(store, settings: Settings, *, holdout: float = 0.2,
                  out_dir: str | Path | None = None, aspects: str = "ngram",
                  progress: Callable[[str], None] | None = None):
    """Evaluate and fit the review analyzer (see the module docstring); returns an
    ``engine.TrainedModel`` whose ``path`` is the packed analyzer, or ``None`` when the store
    has too few labelled reviews (fewer than 20, or a single polarity). ``aspects`` names the
    aspect-term model (see :func:`aspect_model`); ``progress`` receives a line of where a
    fine-tuned aspect model's training is, after every step."""
    from shopmind.engine import TrainedModel
    from shopmind.evaluate import classification_metrics
    from shopmind.reviews import NgramSentimentClassifier, ReviewAnalyzer

    texts, y, categories, source = labelled_reviews(store)
    if len(texts) < _MIN_REVIEWS or len(set(y.tolist())) < 2:
        return None
    pairs = labelled_aspects(store)
    # one draw per review text: a review held out for sentiment is held out for its aspects too
    reviews = sorted(set(texts) | set(pairs["text"]))
    draw = np.random.default_rng(settings.seed).random(len(reviews))
    held_out = {t for t, r in zip(reviews, draw, strict=True) if r < holdout}
    held = np.array([t in held_out for t in texts], dtype=bool)
    metrics: dict = {"reviews": len(texts), "held_out": int(held.sum())}
    def part(values: list, holdout: bool) -> list:
        return [v for v, h in zip(values, held) if h == holdout]

    evaluated = None
    if held.any() and len(set(y[~held].tolist())) >= 2:
        evaluated = NgramSentimentClassifier().fit(part(texts, False), y[~held],
                                                   categories=part(categories, False))
        got = evaluated.predict(part(texts, True), categories=part(categories, True))
        scores = classification_metrics(y[held], np.asarray(got, dtype=object))
        metrics.update({k: round(float(v), 4) for k, v in scores.items()
                        if k in ("accuracy", "macro_f1")})
    start = time.perf_counter()
    analyzer = ReviewAnalyzer(NgramSentimentClassifier()).fit(texts, y, categories=categories)
    metrics.update(_fit_aspect_terms(analyzer, pairs, held_out, evaluated, aspects, progress))
    fit_seconds = time.perf_counter() - start
    folder = Path(out_dir) if out_dir is not None else Path(tempfile.mkdtemp(prefix="reviews-"))
    path = pack_analyzer(analyzer, folder / "analyzer.zip")
    share = f"{holdout:.0%}"
    protocol = f"{REVIEWS_PROTOCOL.format(share=share)}; labels from {source}"
    if "aspect_model_accuracy" in metrics:
        protocol += (f"; aspect terms: {share} of the annotated reviews held out, judged with and "
                     f"without the trained model ({aspects}), which serves only if it judged "
                     f"better ({'it does' if analyzer.terms_fitted else 'the lexicon serves'})")
    return TrainedModel("review-analyzer", path, metrics, fit_seconds,
                        extra={"protocol": protocol, "terms_fitted": analyzer.terms_fitted})


def pack_analyzer(analyzer, archive: str | Path) -> Path:
    """Save a ``ReviewAnalyzer`` as one zip file (the registry versions files)."""
    archive = Path(archive)
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = analyzer.save(Path(tmp) / "analyzer")
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
            # files in folders too: a fine-tuned transformer saves as a folder of its own
            for file in sorted(p for p in folder.rglob("*") if p.is_file()):
                zf.write(file, file.relative_to(folder).as_posix())
    return archive


def extract_analyzer(archive: str | Path, folder: str | Path) -> Path:
    """Unzip an analyzer packed by :func:`pack_analyzer` into ``folder``, which then loads
    with ``ReviewAnalyzer.load`` — without loading and saving its models again."""
    from shopmind.errors import DataError

    folder = Path(folder)
    with zipfile.ZipFile(archive) as zf:
        for name in zf.namelist():  # an archive of our own: refuse paths that leave it
            parts = Path(name).parts
            if not parts or Path(name).is_absolute() or any(p.startswith(".") for p in parts):
                raise DataError(f"{archive} holds {name!r}; not a packed review analyzer")
        for name in zf.namelist():
            target = folder.joinpath(*Path(name).parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(zf.read(name))
    return folder


def unpack_analyzer(archive: str | Path):
    """The ``ReviewAnalyzer`` packed by :func:`pack_analyzer`."""
    from shopmind.reviews import ReviewAnalyzer

    with tempfile.TemporaryDirectory() as tmp:
        return ReviewAnalyzer.load(extract_analyzer(archive, tmp))


def register_capability(registry: ModelRegistry, capability: str, trained, *,
                        data: dict | None = None, reason: str = "", run_id: str = "",
                        move: bool = True) -> dict:
    """Add one trained model as a new version of ``capability``, serve it if its primary
    metric is not worse than the serving version's, record the run; returns the outcome."""
    run_id = run_id or uuid.uuid4().hex[:12]
    version = registry.add(capability, trained.name, trained.path, trained.metrics,
                           protocol=trained.extra.get("protocol", ""),
                           fit_seconds=trained.fit_seconds, run_id=run_id, data=data,
                           curve=trained.extra.get("curve", []), move=move)
    decision = decide_promotion(registry, capability, [version], metric=PRIMARY[capability])
    outcome = {"run_id": run_id, "status": "promoted" if decision.promoted else "kept",
               "reason": reason, "decision": decision.reason, "metric": decision.metric,
               "versions": [version.version], "candidate": version.version,
               "serving": registry.serving_version(capability), "finished_at": time.time(),
               "data": data or {}}
    registry.record_run(capability, outcome)
    registry.prune(capability)
    return outcome


def train_search_and_reviews(store, settings: Settings, *, registry: ModelRegistry | None = None,
                             encoder=None, reason: str = "", console=None,
                             capabilities: tuple[str, ...] = (SEARCH, REVIEWS),
                             aspects: str = "ngram") -> dict:
    """Train search and the review analyzer (or those of ``capabilities``) on the store and
    version them in the registry; ``aspects`` names the aspect-term model (see
    :func:`aspect_model`).

    Returns ``{capability: outcome}``; a capability that cannot be trained (no items, too few
    labelled reviews) or whose training fails gets ``status: skipped`` / ``failed`` and leaves
    its serving version alone.
    """
    from rich.console import Console

    from shopmind.live import last_event_id, registry_for

    console = console or Console(file=io.StringIO())
    registry = registry or registry_for(settings)
    counts = store.counts()
    data = {"max_event_id": last_event_id(store), "items": counts.get("items", 0),
            "reviews": counts.get("reviews", 0), "events": counts.get("events", 0)}
    outcomes = {}
    staging = Path(tempfile.mkdtemp(prefix=".train-text-", dir=registry.root))
    try:
        for capability, trainer in ((SEARCH, lambda _: train_search(
                store, settings, encoder=encoder, out_dir=staging)),
                                    (REVIEWS, lambda progress: train_reviews(
                                        store, settings, out_dir=staging, aspects=aspects,
                                        progress=progress))):
            if capability not in capabilities:
                continue
            if capability == SEARCH and not counts.get("items"):
                outcomes[capability] = {"status": "skipped", "reason": "the store has no items"}
                continue
            try:
                with console.status(f"training {capability}") as status:
                    trained = trainer(lambda line, c=capability: status.update(
                        f"training {c}: {line}"))
                if trained is None:
                    outcomes[capability] = {"status": "skipped", "reason":
                                            f"fewer than {_MIN_REVIEWS} labelled reviews"}
                    continue
                outcomes[capability] = register_capability(registry, capability, trained,
                                                           data=data, reason=reason)
                outcomes[capability]["metrics"] = trained.metrics
            except Exception as exc:  # noqa: BLE001 - a failed training is an outcome
                outcome = {"status": "failed", "reason": reason,
                           "error": f"{type(exc).__name__}: {exc}", "finished_at": time.time(),
                           "serving": registry.serving_version(capability)}
                registry.record_run(capability, outcome)
                outcomes[capability] = outcome
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return outcomes


def _main(argv: list[str]) -> int:
    """``python -m shopmind.engine_search_reviews [reason]``: train search and the review
    analyzer on the store of the environment's settings (``SHOPMIND_*``; the search embeds with
    ``SHOPMIND_ENCODER``); a running service loads the new serving versions within seconds.
    Prints the outcome as JSON; exit 0 unless a training failed."""
    import json
    import sys

    from shopmind.config import get_settings
    from shopmind.data.store import Store

    settings = get_settings()
    store = Store(settings=settings)
    try:
        outcomes = train_search_and_reviews(store, settings,
                                            reason=argv[0] if argv else "manual")
    finally:
        store.close()
    json.dump(outcomes, sys.stdout, default=str, ensure_ascii=False)
    print()
    return 1 if any(o["status"] == "failed" for o in outcomes.values()) else 0


if __name__ == "__main__":  # pragma: no cover
    import sys

    sys.exit(_main(sys.argv[1:]))
