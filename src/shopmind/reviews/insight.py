"""Per-product and per-category insight from reviews: what customers praise, what they complain
about, how that changes over time, and what they need — as plain JSON-ready dicts for the
service and the dashboard's charts.

>>> import pandas as pd
>>> reviews = pd.DataFrame({
...     "review_id": ["r1", "r2", "r3"], "item_id": ["A", "A", "A"],
...     "text": ["质量很好，但是物流太慢了", "物流慢，等了一周，质量不错", "Great quality, slow shipping."],
...     "ts": [1.767e9, 1.768e9, 1.769e9], "rating": [4, 3, 4]})
>>> report = ReviewInsights().build(reviews, scope={"item_id": "A"})
>>> [p["aspect"] for p in report["praises"]], [c["aspect"] for c in report["complaints"]]
(['quality'], ['logistics'])
>>> report["language"], report["needs"][0]["need"]
('zh', '更快、更准时的发货和配送')
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

from shopmind.errors import DataError
from shopmind.reviews.analyzer import ReviewAnalyzer
from shopmind.reviews.taxonomy import Aspect, AspectTaxonomy, default_taxonomy

__all__ = ["ReviewInsights", "top_category"]

_PERIODS = {"day": "D", "week": "W", "month": "M", "quarter": "Q"}
# A clause may open with the word that joined it to the one before: not part of a quote.
_CONNECTOR = re.compile(r"^(?:(?:but|and|however|although|though|yet)\b|但是|但|不过|可是|就是|而且|然而)"
                        r"\s*", re.I)


# The summary's wording per language: the same sentences, each a template filled the same way.
# "list" / "needs" join the praised aspects / the needs; "join" joins the sentences.
_SUMMARY_WORDS = {
    "zh": {"praise": "顾客认可{}。", "praised": "{label}（好评率{share:.0%}）", "list": "、",
           "need": "主要诉求：{needs}（{label}差评率{share:.0%}{quote}）。", "needs": "；",
           "quote": "，如「{text}」", "change": "{label}评价近期{trend}。",
           "better": "好转", "worse": "变差", "join": "", "empty": "评论中尚无足够的方面信息。"},
    "en": {"praise": "Customers praise {}.", "praised": "{label} ({share:.0%} positive)", "list": ", ",
           "need": "They need {needs} ({label}: {share:.0%} negative{quote}).", "needs": "; ",
           "quote": ', e.g. "{text}"', "change": "Opinions on {label} are getting {trend}.",
           "better": "better", "worse": "worse", "join": " ",
           "empty": "Not enough aspect opinions in the reviews yet."},
}


def top_category(category: str | None, level: int = 1) -> str | None:
    """The first ``level`` parts of a ``"A > B > C"`` category path.

    >>> top_category("数码 > 手机 > 智能手机"), top_category("Books > Fiction", 2)
    ('数码', 'Books > Fiction')
    """
    if category is None or (isinstance(category, float) and np.isnan(category)):
        return None
    parts = [p.strip() for p in str(category).split(">")]
    return " > ".join(parts[:level])


class ReviewInsights:
    """Builds insight reports from a reviews frame (``text`` required; ``review_id``,
    ``item_id``, ``ts`` (epoch seconds) and ``rating`` used when present).

    ``top`` praises/complaints are listed, each with up to ``quotes`` representative quotes;
    an aspect needs ``min_mentions`` mentions to be reported; ``period`` (day, week, month,
    quarter) buckets the trend; ``language`` (zh / en) is the summary's language, by default
    the reviews' majority language.
    """

    def __init__(self, analyzer: ReviewAnalyzer | None = None, top: int = 3, quotes: int = 2,
                 min_mentions: int = 1, period: str = "month", language: str | None = None):
        if period not in _PERIODS:
            raise DataError(f"period must be one of {sorted(_PERIODS)}, got {period!r}")
        self.analyzer = analyzer
        self.top = top
        self.quotes = quotes
        self.min_mentions = min_mentions
        self.period = period
        self.language = language

    @property
    def _taxonomy(self) -> AspectTaxonomy:
        analyzer = self.analyzer
        return (analyzer.taxonomy if analyzer is not None and analyzer.taxonomy is not None
                else default_taxonomy())

    def analyse(self, reviews: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(per-review sentiment, aspect mentions) of ``reviews``, by the analyzer."""
        if "text" not in reviews.columns:
            raise DataError("the reviews frame needs a 'text' column")
        return (self.analyzer or ReviewAnalyzer()).analyze_frame(reviews)

    # -- one report
    def build(self, reviews: pd.DataFrame, scope: Mapping | None = None,
              analysed: tuple[pd.DataFrame, pd.DataFrame] | None = None) -> dict:
        """The report for one set of reviews (a product, a category, a shop)."""
        per_review, mentions = self.analyse(reviews) if analysed is None else analysed
        reviews = per_review
        language = self.language or _majority_language(mentions, reviews)
        aspects = self._aspect_table(mentions)
        praises = self._ranked(mentions, aspects, "positive", language)
        complaints = self._ranked(mentions, aspects, "negative", language)
        trend, changes = self._trend(reviews, mentions)
        needs = [{"aspect": c["aspect"], "need": self._need(c["aspect"], language),
                  "negative_share": c["share"], "mentions": c["mentions"]} for c in complaints]
        report = {
            "scope": dict(scope or {}),
            "n_reviews": int(len(reviews)),
            "language": language,
            "time_range": _time_range(reviews),
            "sentiment": _sentiment(per_review),
            "rating": _rating(reviews),
            "aspects": aspects,
            "praises": praises,
            "complaints": complaints,
            "trend": trend,
            "changes": changes,
            "needs": needs,
        }
        report["summary"] = self._summary(report, language)
        return report

    # -- many reports at once
    def build_by(self, reviews: pd.DataFrame, key: str | pd.Series,
                 analysed: tuple[pd.DataFrame, pd.DataFrame] | None = None) -> dict:
        """One report per value of ``key`` (a column name, e.g. ``item_id``, or a Series
        aligned with ``reviews``, e.g. each review's category); reviews are analysed once."""
        keys = reviews[key] if isinstance(key, str) else pd.Series(key, index=reviews.index)
        name = key if isinstance(key, str) else (keys.name or "group")
        per_review, mentions = self.analyse(reviews) if analysed is None else analysed
        out = {}
        row_key = keys.to_numpy()
        for value in pd.unique(row_key):
            if value is None or (isinstance(value, float) and np.isnan(value)):
                continue
            rows = np.flatnonzero(row_key == value)  # positions, as in the analysed frames
            out[value] = self.build(reviews.iloc[rows], {name: value},
                                    (per_review.iloc[rows], mentions[mentions["row"].isin(rows)]))
        return out

    def category_reports(self, reviews: pd.DataFrame, items: pd.DataFrame, level: int = 1) -> dict:
        """One report per category (the first ``level`` parts of each item's category path)."""
        if "item_id" not in reviews.columns or not {"item_id", "category"} <= set(items.columns):
            raise DataError("category reports need reviews.item_id and items.item_id/category")
        category = reviews["item_id"].map(items.set_index("item_id")["category"]
                                          .map(lambda c: top_category(c, level)))
        return self.build_by(reviews, category.rename("category"))

    # -- pieces
    def _aspect_table(self, mentions: pd.DataFrame) -> list[dict]:
        rows = []
        if mentions.empty:
            return rows
        for aspect, group in mentions.groupby("aspect", sort=False):
            n = len(group)
            if n < self.min_mentions:
                continue
            counts = group["polarity"].value_counts()
            pos, neu, neg = (int(counts.get(p, 0)) for p in ("positive", "neutral", "negative"))
            rows.append({"aspect": aspect, "label": self._label(aspect), "mentions": n,
                         "positive": pos, "neutral": neu, "negative": neg,
                         "share_positive": round(pos / n, 4), "share_negative": round(neg / n, 4),
                         "net": round((pos - neg) / n, 4),
                         "mean_score": round(float(group["score"].mean()), 4)})
        rows.sort(key=lambda r: (-r["mentions"], r["aspect"]))
        return rows

    def _need(self, aspect: str, language: str) -> str:
        """The taxonomy's need for its aspect; for a category of the shop's own (see
        ``ReviewAnalyzer.analyze_frame``), the taxonomy's wording for an aspect without one."""
        taxonomy = self._taxonomy
        return (taxonomy[aspect] if aspect in taxonomy.names else Aspect(aspect, aspect, aspect)
                ).need(language)

    def _label(self, aspect: str, language: str = "en") -> str:
        return self._taxonomy[aspect].label(language) if aspect in self._taxonomy.names else aspect

    def _ranked(self, mentions: pd.DataFrame, aspects: list[dict], polarity: str,
                language: str) -> list[dict]:
        count, share = ("positive", "share_positive") if polarity == "positive" \
            else ("negative", "share_negative")
        # A praise is an aspect most mentions of which are positive; a complaint one with a
        # sizeable negative share (a third) — complaints matter before they are the majority.
        threshold = 0.5 if polarity == "positive" else 1 / 3
        chosen = [a for a in aspects if a[count] > 0 and a[share] >= threshold]
        chosen.sort(key=lambda a: (-a[count], -a[share], a["aspect"]))
        out = []
        for a in chosen[:self.top]:
            group = mentions[(mentions["aspect"] == a["aspect"]) & (mentions["polarity"] == polarity)]
            group = group.sort_values("strength", ascending=False, kind="stable")
            quotes, seen = [], set()
            for _, row in group.iterrows():
                text = _CONNECTOR.sub("", row["evidence"]).strip() or row["evidence"]
                if text.lower() in seen:
                    continue
                seen.add(text.lower())
                quote = {"text": text, "strength": float(row["strength"])}
                if "review_id" in row:
                    quote["review_id"] = row["review_id"]
                quotes.append(quote)
                if len(quotes) >= self.quotes:
                    break
            out.append({"aspect": a["aspect"], "label": self._label(a["aspect"], language),
                        "mentions": a[count], "share": a[share], "quotes": quotes})
        return out

    def _trend(self, reviews: pd.DataFrame, mentions: pd.DataFrame) -> tuple[list, list]:
        if "ts" not in reviews.columns or reviews["ts"].isna().all() or mentions.empty \
                or "ts" not in mentions.columns:
            return [], []
        freq = _PERIODS[self.period]
        when = pd.to_datetime(mentions["ts"], unit="s", utc=True).dt.tz_localize(None)
        bucket = when.dt.to_period(freq).astype(str)
        review_when = pd.to_datetime(reviews["ts"], unit="s", utc=True).dt.tz_localize(None)
        review_bucket = review_when.dt.to_period(freq).astype(str)
        trend = []
        for period in sorted(set(review_bucket.dropna())):
            in_period = mentions[bucket == period]
            entry = {"period": period, "reviews": int((review_bucket == period).sum()),
                     "mentions": int(len(in_period)),
                     "mean_score": round(float(in_period["score"].mean()), 4)
                     if len(in_period) else None, "aspects": {}}
            for aspect, group in in_period.groupby("aspect"):
                pos = int((group["polarity"] == "positive").sum())
                neg = int((group["polarity"] == "negative").sum())
                entry["aspects"][aspect] = {"mentions": len(group),
                                            "net": round((pos - neg) / len(group), 4)}
            trend.append(entry)
        # change: the later half of the time range against the earlier half, per aspect
        middle = when.min() + (when.max() - when.min()) / 2
        changes = []
        for aspect, group in mentions.groupby("aspect"):
            late = when[group.index] > middle
            early_scores, late_scores = group["score"][~late], group["score"][late]
            if len(early_scores) < 3 or len(late_scores) < 3:
                continue
            delta = float(late_scores.mean() - early_scores.mean())
            if abs(delta) >= 0.2:
                changes.append({"aspect": aspect, "label": self._label(aspect),
                                "before": round(float(early_scores.mean()), 4),
                                "after": round(float(late_scores.mean()), 4),
                                "direction": "better" if delta > 0 else "worse",
                                "mentions": [int(len(early_scores)), int(len(late_scores))]})
        changes.sort(key=lambda c: -abs(c["after"] - c["before"]))
        return trend, changes

    def _summary(self, report: dict, language: str) -> str:
        """Up to three sentences: the praises, the needs with the worst complaint, the latest
        changes; in Chinese for ``zh``, else in English."""
        words = _SUMMARY_WORDS["zh" if language == "zh" else "en"]
        praises, complaints = report["praises"], report["complaints"]

        def label(aspect: str) -> str:
            return self._label(aspect, language)

        parts = []
        if praises:
            parts.append(words["praise"].format(words["list"].join(
                words["praised"].format(label=label(p["aspect"]), share=p["share"]) for p in praises)))
        if complaints:
            worst = complaints[0]
            quote = words["quote"].format(text=worst["quotes"][0]["text"]) if worst["quotes"] else ""
            parts.append(words["need"].format(
                needs=words["needs"].join(n["need"] for n in report["needs"]),
                label=label(worst["aspect"]), share=worst["share"], quote=quote))
        for c in report["changes"][:2]:
            parts.append(words["change"].format(label=label(c["aspect"]), trend=words[c["direction"]]))
        return words["join"].join(parts) or words["empty"]

    @staticmethod
    def to_json(report: dict) -> str:
        """The report as JSON (ids and numpy values made plain)."""
        return json.dumps(report, ensure_ascii=False, default=_plain, indent=1)


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dt.datetime | pd.Timestamp):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def _sentiment(per_review: pd.DataFrame) -> dict:
    if per_review.empty:
        return {"positive": 0.0, "neutral": 0.0, "negative": 0.0, "mean_score": None}
    shares = per_review["polarity"].value_counts(normalize=True)
    return {**{p: round(float(shares.get(p, 0.0)), 4) for p in ("positive", "neutral", "negative")},
            "mean_score": round(float(per_review["score"].mean()), 4)}


def _majority_language(mentions: pd.DataFrame, reviews: pd.DataFrame) -> str:
    if "language" in reviews.columns and reviews["language"].notna().any():
        langs = reviews["language"].dropna()
    elif "language" in mentions.columns and len(mentions):
        langs = mentions["language"].dropna()
    else:
        return "en"
    return "zh" if (langs == "zh").mean() >= 0.5 else "en"


def _time_range(reviews: pd.DataFrame) -> dict | None:
    if "ts" not in reviews.columns or reviews["ts"].isna().all():
        return None
    def iso(t) -> str:
        return dt.datetime.fromtimestamp(float(t), dt.UTC).isoformat()

    return {"from": iso(reviews["ts"].min()), "to": iso(reviews["ts"].max())}


def _rating(reviews: pd.DataFrame) -> dict | None:
    if "rating" not in reviews.columns or reviews["rating"].isna().all():
        return None
    r = reviews["rating"].dropna().astype(float)
    return {"mean": round(float(r.mean()), 3), "n": int(len(r)),
            "distribution": {str(int(k)): int(v) for k, v in r.round().value_counts().sort_index().items()}}
