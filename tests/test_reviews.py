"""Review intelligence: aspect opinions recovered from the demo shop's planted structure, the
issue's example sentence, sentiment models that save/load exactly and are calibrated."""

from __future__ import annotations

import json
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest

from shopmind.data.batch import Batch
from shopmind.data.demo import generate_demo_shop
from shopmind.errors import DataError, NotFittedError
from shopmind.evaluate import accuracy, expected_calibration_error
from shopmind.reviews import (
    AspectTermClassifier,
    NgramSentimentClassifier,
    ReviewAnalyzer,
    ReviewInsights,
    default_lexicon,
    default_taxonomy,
    polarity_from_rating,
    to_polarity,
)
from shopmind.reviews.base import POLARITIES, polarity_of_score, stratified_holdout
from shopmind.reviews.clauses import split_clauses

EXAMPLE = "商品质量不错，物流速度很快，但客服服务态度一般"


@pytest.fixture(scope="module")
def shop():
    return generate_demo_shop(seed=11)


@pytest.fixture(scope="module")
def analysed(shop):
    return ReviewAnalyzer().analyze_frame(shop.reviews)


# --------------------------------------------------------------------------- the example


def test_the_issue_example_gets_each_aspect_with_its_evidence():
    result = ReviewAnalyzer().analyze(EXAMPLE)[0]
    got = {m.aspect: m for m in result.aspects}
    assert set(got) == {"quality", "logistics", "service"}
    assert got["quality"].polarity == "positive" and "不错" in got["quality"].opinions
    assert got["logistics"].polarity == "positive" and "快" in got["logistics"].opinions
    # 「一般」 is lukewarm: neutral-to-negative, never positive
    assert got["service"].polarity in ("neutral", "negative") and got["service"].score < 0
    assert got["service"].opinions == ["一般"]
    for m in result.aspects:
        assert EXAMPLE[m.start:m.end] == m.evidence and 0 <= m.strength <= 1
    assert got["quality"].evidence == "商品质量不错"
    assert got["logistics"].evidence == "物流速度很快"
    assert result.language == "zh"


def test_english_and_negation_and_degree():
    analyzer = ReviewAnalyzer()
    r = analyzer.analyze(["Great quality but shipping was painfully slow.",
                          "价格不贵，包装也没有问题", "尺码稍微偏大一点", "It doesn't fit at all"])
    assert [(m.aspect, m.polarity) for m in r[0].aspects] == [("quality", "positive"),
                                                              ("logistics", "negative")]
    assert [m.polarity for m in r[1].aspects] == ["positive", "positive"]
    assert r[2].aspects[0].aspect == "fit" and r[2].aspects[0].polarity == "neutral"
    assert r[2].aspects[0].score < 0
    assert r[3].aspects[0].aspect == "fit" and r[3].aspects[0].polarity == "negative"


def test_excess_and_expectation_constructions():
    analyzer = ReviewAnalyzer()
    texts = ["鞋子太大了", "床垫过于硬", "the screen is too dim", "too small for me", "这个手机太好用了",
             "鞋子不太大", "没有想象中的好", "不如想象中好", "没有想象中那么差",
             "The shirt was not as described", "质量不行", "下次不会再买了", "会回购"]
    polarity = {t: r.clauses[0].polarity for t, r in zip(texts, analyzer.analyze(texts))}
    assert polarity == {
        "鞋子太大了": "negative", "床垫过于硬": "negative", "the screen is too dim": "negative",
        "too small for me": "negative",
        "这个手机太好用了": "positive",  # 「太」 + praise stays praise
        "鞋子不太大": "neutral",  # 「不太」 negates; 「大」 alone is no opinion
        "没有想象中的好": "negative", "不如想象中好": "negative",
        "没有想象中那么差": "positive", "The shirt was not as described": "negative",
        "质量不行": "negative", "下次不会再买了": "negative", "会回购": "positive"}
    # 「偏」 is a milder excess than 「太」
    assert analyzer.analyze("偏硬")[0].clauses[0].score > analyzer.analyze("太硬")[0].clauses[0].score


def test_a_complaint_outweighs_a_compliment_in_the_document(tmp_path):
    # the praise is a little stronger than the complaint, clause by clause ...
    result = ReviewAnalyzer().analyze("质量不错，问题也有")[0]
    praise, complaint = (c.score for c in result.clauses)
    assert praise > -complaint > 0
    # ... yet the complaint weighs more in the document (it would not, weighed equally)
    assert result.score < 0
    assert ReviewAnalyzer(negative_weight=1.0).analyze("质量不错，问题也有")[0].score > 0
    saved = ReviewAnalyzer(negative_weight=1.0).save(tmp_path / "even")
    assert ReviewAnalyzer.load(saved).analyze("质量不错，问题也有")[0].score > 0


def test_lexicon_excess_words_round_trip_and_must_be_degree_words():
    lexicon = default_lexicon().extend(excess=["overly"], scalars=["bulky"])
    again = type(lexicon).from_dict(json.loads(json.dumps(lexicon.to_dict())))
    assert again == lexicon and "bulky" in again.scalars
    with pytest.raises(DataError, match="degree factor"):
        default_lexicon().extend(excess=["waaay"])
    shop_words = default_lexicon().extend(degree={"waaay": 1.6}, excess=["waaay"], scalars=["pricy"])
    assert ReviewAnalyzer(lexicon=shop_words).analyze("waaay pricy")[0].clauses[0].polarity == "negative"


def test_clauses_are_cut_at_punctuation_and_contrast_words():
    assert [c.text for c in split_clauses("质量不错但是价格有点贵。Fast delivery, and "
                                          "the seller was helpful")] == \
        ["质量不错", "但是价格有点贵", "Fast delivery", "and the seller was helpful"]
    assert split_clauses("") == [] and split_clauses("!!!") == []


def test_a_shop_extends_the_taxonomy_and_the_lexicon():
    taxonomy = default_taxonomy().extend({
        "scent": {"zh": "气味", "en": "scent", "terms": ["气味", "scent", "smell"],
                  "opinions": {"清新": 0.7, "刺鼻": -0.8}},
        "logistics": {"terms": ["闪送"]}})
    analyzer = ReviewAnalyzer(taxonomy=taxonomy, lexicon=default_lexicon().extend({"yyds": 0.9}))
    r = analyzer.analyze(["气味很清新，闪送很快", "The scent is awful", "这款yyds"])
    assert [(m.aspect, m.polarity) for m in r[0].aspects] == [("scent", "positive"),
                                                              ("logistics", "positive")]
    assert [(m.aspect, m.polarity) for m in r[1].aspects] == [("scent", "negative")]
    assert r[2].clauses[0].polarity == "positive"
    with pytest.raises(DataError, match="needs 'terms'"):
        default_taxonomy().extend({"smell": {"zh": "气味"}})


# --------------------------------------------------------------------------- planted structure


def test_planted_review_aspects_are_recovered(shop, analysed):
    _, mentions = analysed
    truth = shop.truth.review_aspects
    predicted: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for rid, aspect, score in mentions[["review_id", "aspect", "score"]].itertuples(index=False):
        predicted[rid][aspect].append(score)
    tp = fp = fn = agree = 0
    for rid, aspects in truth.items():
        got = predicted.get(rid, {})
        for aspect, polarity in aspects.items():
            if aspect in got:
                tp += 1
                agree += polarity_of_score(float(np.mean(got[aspect]))) == polarity
            else:
                fn += 1
        fp += sum(1 for a in got if a not in aspects)
    assert tp / (tp + fp) >= 0.97  # precision of the aspects found
    assert tp / (tp + fn) >= 0.93  # recall of the planted aspects
    assert agree / tp >= 0.95  # polarity of the aspects found


def test_planted_item_aspect_means_are_recovered(shop, analysed):
    _, mentions = analysed
    per_item = mentions.groupby(["item_id", "aspect"])["score"].agg(["mean", "size"])
    pairs = [(row["mean"], shop.truth.item_aspects[item][aspect])
             for (item, aspect), row in per_item.iterrows() if row["size"] >= 4]
    assert len(pairs) >= 100
    found, planted = np.array(pairs).T
    assert np.corrcoef(found, planted)[0, 1] >= 0.8
    clear = np.abs(planted) >= 0.5
    assert np.mean(np.sign(found[clear]) == np.sign(planted[clear])) >= 0.95


def test_insight_complaints_are_the_planted_weak_spots(shop, analysed):
    reports = ReviewInsights().build_by(shop.reviews, "item_id", analysed=analysed)
    hits = checked = 0
    for item, report in reports.items():
        planted = shop.truth.item_aspects[item]
        counts = {a["aspect"]: a["mentions"] for a in report["aspects"]}
        for aspect, mean in planted.items():
            if mean <= -0.5 and counts.get(aspect, 0) >= 4:
                checked += 1
                hits += aspect in {c["aspect"] for c in report["complaints"]}
    assert checked >= 5 and hits / checked >= 0.9
    report = next(r for r in reports.values() if r["complaints"])
    json.loads(ReviewInsights.to_json(report))  # exportable
    assert report["summary"] and report["needs"] and report["trend"]
    assert report["complaints"][0]["quotes"][0]["text"]


def test_category_insight(shop, analysed):
    reports = ReviewInsights().category_reports(shop.reviews, shop.items)
    assert len(reports) >= 5
    sizes = sum(r["n_reviews"] for r in reports.values())
    assert sizes == len(shop.reviews)
    some = next(iter(reports.values()))
    assert set(some["sentiment"]) == {"positive", "neutral", "negative", "mean_score"}


# --------------------------------------------------------------------------- sentiment models


_LIGHT = {"members": ("lr", "nblr", "mnb"), "char_ngrams": (1, 3), "word_ngrams": (1, 2)}


def test_ngram_classifier_learns_saves_and_loads(shop, tmp_path):
    reviews = shop.reviews
    y = polarity_from_rating(reviews["rating"])
    train, test = reviews.index[:800], reviews.index[800:]
    model = NgramSentimentClassifier(**_LIGHT).fit(reviews.loc[train, "text"], y[train])
    assert set(model.classes_) == set(POLARITIES)
    predicted = model.predict(reviews.loc[test, "text"])
    majority = max(np.mean(y[test] == c) for c in POLARITIES)
    assert accuracy(y[test], predicted) > majority + 0.1
    path = model.save(tmp_path / "sentiment.npz")
    loaded = NgramSentimentClassifier.load(path)
    texts = reviews.loc[test, "text"].tolist()
    assert np.array_equal(loaded.predict_proba(texts), model.predict_proba(texts))
    assert list(loaded.classes_) == list(model.classes_)


def test_ngram_classifier_probabilities_are_calibrated():
    rng = np.random.default_rng(0)
    good, bad = ["很好", "满意", "不错", "好评", "喜欢"], ["很差", "失望", "退货", "差评", "坏了"]
    filler = ["今天", "收到", "这个", "商品", "我们", "家里", "朋友", "价格"]
    texts, labels = [], []
    for _ in range(4000):  # 15 % of the labels are flipped: the truth is never certain
        positive = rng.random() < 0.5
        words = list(rng.choice(filler, 3)) + [rng.choice(good if positive else bad)]
        texts.append("，".join(rng.permutation(words)))
        labels.append(int(positive) if rng.random() > 0.15 else int(not positive))
    labels = np.array(labels)
    model = NgramSentimentClassifier(**_LIGHT, calibration=0.2).fit(texts[:2000], labels[:2000])
    p = model.predict_proba(texts[2000:])
    assert np.allclose(p.sum(axis=1), 1)
    assert list(model.classes_) == [0, 1]
    # the best possible model is right 85 % of the time and says so
    assert abs(p.max(axis=1).mean() - 0.85) < 0.06
    assert expected_calibration_error(labels[2000:], p[:, 1]) < 0.07


def _category_dependent_reviews(n: int, seed: int):
    """Reviews where 「声音很大」 praises a speaker and blames a fridge (and 「声音很小」 the
    reverse), beside opinions that mean the same everywhere."""
    rng = np.random.default_rng(seed)
    filler = ["今天收到", "用了一周", "朋友推荐", "第二次买"]
    shared = {"质量很好": "positive", "非常满意": "positive", "质量很差": "negative",
              "非常失望": "negative"}
    flips = {("speaker", "声音很大"): "positive", ("speaker", "声音很小"): "negative",
             ("fridge", "声音很大"): "negative", ("fridge", "声音很小"): "positive"}
    texts, labels, categories = [], [], []
    for _ in range(n):
        category = str(rng.choice(["speaker", "fridge"]))
        if rng.random() < 0.5:
            phrase = str(rng.choice(list(shared)))
            label = shared[phrase]
        else:
            phrase = str(rng.choice(["声音很大", "声音很小"]))
            label = flips[(category, phrase)]
        texts.append(f"{rng.choice(filler)}，{phrase}")
        labels.append(label)
        categories.append(f"{category} > {rng.choice(['small', 'large'])}")  # the top level counts
    return texts, np.array(labels, dtype=object), categories


def test_ngram_classifier_learns_what_a_word_means_in_each_category(tmp_path):
    texts, labels, categories = _category_dependent_reviews(600, 0)
    model = NgramSentimentClassifier(**_LIGHT).fit(texts, labels, categories=categories)
    probe = ["收到了，声音很大", "收到了，声音很大", "收到了，声音很小", "收到了，声音很小",
             "收到了，质量很差"]
    where = ["speaker", "fridge > large", "speaker > small", "fridge", None]
    assert model.predict(probe, categories=where).tolist() == [
        "positive", "negative", "negative", "positive", "negative"]
    # text alone cannot tell: the same phrase is half praise, half complaint
    blind = NgramSentimentClassifier(**_LIGHT).fit(texts, labels)
    test_texts, test_labels, test_categories = _category_dependent_reviews(400, 1)
    assert accuracy(test_labels, model.predict(test_texts, categories=test_categories)) > 0.97
    assert accuracy(test_labels, blind.predict(test_texts)) < 0.8
    loaded = NgramSentimentClassifier.load(model.save(tmp_path / "sentiment.npz"))
    assert np.array_equal(loaded.predict_proba(probe, categories=where),
                          model.predict_proba(probe, categories=where))
    with pytest.raises(DataError, match="5 texts but 2 categories"):
        model.predict(probe, categories=["speaker", "fridge"])
    # a category with too few reviews to learn from gets no copies: read as unknown
    rare = NgramSentimentClassifier(**_LIGHT, category_min_reviews=100).fit(
        texts, labels, categories=[c if i >= 50 else "radio" for i, c in enumerate(categories)])
    assert np.array_equal(rare.predict_proba(probe, categories=["radio"] * 5),
                          rare.predict_proba(probe))


def test_analyzer_passes_categories_to_its_model(tmp_path):
    texts, labels, categories = _category_dependent_reviews(600, 0)
    analyzer = ReviewAnalyzer(NgramSentimentClassifier(**_LIGHT)).fit(texts, labels,
                                                                      categories=categories)
    frame = pd.DataFrame({"text": ["声音很大", "声音很大"],
                          "category": ["speaker > small", "fridge > small"]})
    per_review, _ = analyzer.analyze_frame(frame)
    assert per_review["polarity"].tolist() == ["positive", "negative"]
    many = [t for t, _ in zip(texts * 2, range(800))]
    where = [c for c, _ in zip(categories * 2, range(800))]
    one = analyzer.analyze(many, categories=where)
    assert [a.to_dict() for a in analyzer.analyze(many, n_jobs=2, categories=where)] == \
        [a.to_dict() for a in one]


def test_analyzer_with_a_model_saves_and_loads(shop, tmp_path):
    reviews = shop.reviews.iloc[:600]
    analyzer = ReviewAnalyzer(NgramSentimentClassifier(**_LIGHT)).fit(reviews["text"],
                                                                      ratings=reviews["rating"])
    before = analyzer.analyze([EXAMPLE, "Terrible quality, it broke."])
    loaded = ReviewAnalyzer.load(analyzer.save(tmp_path / "analyzer"))
    after = loaded.analyze([EXAMPLE, "Terrible quality, it broke."])
    assert [a.to_dict() for a in before] == [a.to_dict() for a in after]
    assert abs(sum(before[0].proba.values()) - 1) < 1e-3
    assert {(m.aspect, m.polarity) for m in before[1].aspects} == {("quality", "negative")}
    with pytest.raises(NotFittedError):
        ReviewAnalyzer.load(tmp_path / "nothing-here")


def test_aspect_term_classifier_saves_and_loads(tmp_path):
    texts = ["the $T$ is great but the screen is awful", "great screen, awful $T$",
             "the $T$ is ok", "$T$ was fine, nothing special"] * 6
    terms = ["battery", "battery", "keyboard", "keyboard"] * 6
    labels = [1, -1, 0, 0] * 6
    model = AspectTermClassifier().fit(texts, terms, labels)
    assert model.predict(["the screen is awful but the $T$ is great"], ["battery"]).tolist() == [1]
    loaded = AspectTermClassifier.load(model.save(tmp_path / "absa.npz"))
    assert np.array_equal(loaded.predict_proba(texts, terms), model.predict_proba(texts, terms))



def test_asked_terms_get_the_sentiment_of_their_clause():
    [english, chinese, none] = ReviewAnalyzer().analyze(
        ["The Battery life is great but the screen is awful.", "电池很耐用，但是屏幕太暗了", "ok"],
        terms=["battery", "screen", "电池", "屏幕"])
    assert [(t.term, t.polarity, t.evidence) for t in english.terms] == [
        ("battery", "positive", "The Battery life is great"),
        ("screen", "negative", "but the screen is awful")]
    assert english.text[english.terms[0].start:english.terms[0].end] == "Battery"
    assert [(t.term, t.polarity) for t in chinese.terms] == [("电池", "positive"),
                                                              ("屏幕", "negative")]
    assert none.terms == []
    # a clause that only names the term: the review's verdict speaks for it
    [spoken] = ReviewAnalyzer().analyze(["这款电池，用了一个月，非常满意"], terms=["电池"])
    assert [(t.polarity, t.evidence) for t in spoken.terms] == [("positive", spoken.text)]
    with pytest.raises(DataError, match="empty"):
        ReviewAnalyzer().analyze(["ok"], terms=["  "])


def _category_reviews(n: int, seed: int) -> tuple[list[str], list[str], list[int]]:
    """Restaurant reviews about taste and waiting, each side praised or blamed at random, labelled
    per aspect category (named in English, as ASAP does: the name is nowhere in the text)."""
    rng = np.random.default_rng(seed)
    taste = {1: ["菜很好吃", "味道很棒", "口味正宗"], -1: ["菜很难吃", "味道很差", "口味太咸"]}
    wait = {1: ["上菜很快", "不用排队", "没等多久"], -1: ["上菜太慢", "排队很久", "等了一个小时"]}
    texts, categories, labels = [], [], []
    for _ in range(n):
        t, w = rng.choice([1, -1], size=2)
        text = "，".join([rng.choice(taste[t]), rng.choice(wait[w])][::rng.choice([1, -1])])
        texts += [text, text]
        categories += ["dish taste", "service wait time"]
        labels += [int(t), int(w)]
    return texts, categories, labels


def test_aspect_categories_absent_from_the_text_are_told_apart():
    # without the category crossed with the sentence, both categories of a review read the same
    # features, so at best half of the mixed reviews come out right
    model = AspectTermClassifier().fit(*_category_reviews(200, 0))
    texts, categories, labels = _category_reviews(100, 1)
    assert np.mean(model.predict(texts, categories) == np.array(labels)) > 0.95

def _jargon_reviews(n: int, seed: int) -> tuple[list[str], list[str], list[str]]:
    """A shop whose customers praise with 「zorky」 and blame with 「blarg」 — words no lexicon
    knows — about the battery and the screen, each side at random; one row per (review, term)."""
    rng = np.random.default_rng(seed)
    word = {"positive": ["zorky", "totally zorky"], "negative": ["blarg", "kind of blarg"]}
    texts, terms, labels = [], [], []
    for k in range(n):
        b, s = rng.choice(["positive", "negative"], size=2)
        text = f"#{k} The battery is {rng.choice(word[b])}, the screen is {rng.choice(word[s])}."
        texts += [text, text]
        terms += ["battery", "screen"]
        labels += [b, s]
    return texts, terms, labels


def test_a_trained_aspect_model_judges_the_asked_terms(tmp_path):
    texts, terms, labels = _jargon_reviews(150, 0)
    fresh, fresh_terms, truth = _jargon_reviews(50, 1)
    untrained = ReviewAnalyzer()
    assert {o.polarity for o in untrained.judge_terms(fresh, fresh_terms)} == {"neutral"}
    assert untrained.term_scores(fresh, fresh_terms, truth)["accuracy"] < 0.05
    analyzer = ReviewAnalyzer().fit_terms(texts, terms, labels)
    loaded = ReviewAnalyzer.load(analyzer.save(tmp_path / "a"))
    assert loaded.terms_fitted and loaded.term_scores(fresh, fresh_terms, truth)["accuracy"] > 0.95
    judged = loaded.judge_terms(fresh, fresh_terms)
    assert judged[1].evidence.strip() == fresh[1][fresh[1].index("the screen"):].rstrip(".")
    [analysis] = analyzer.analyze(["The screen is blarg, the battery is zorky."],
                                  terms=["battery", "screen", "keyboard"])
    assert [(t.term, t.polarity) for t in analysis.terms] == [("battery", "positive"),
                                                             ("screen", "negative")]
    with pytest.raises(DataError, match="one term per text"):
        analyzer.judge_terms(["a", "b"], ["a"])


def test_the_trained_model_answers_the_categories_it_learned():
    texts, categories, labels = _category_reviews(200, 0)
    analyzer = ReviewAnalyzer().fit_terms(texts, categories, labels)
    fresh, fresh_categories, truth = _category_reviews(50, 1)
    assert analyzer.term_scores(fresh, fresh_categories, truth)["accuracy"] > 0.95
    # nothing in the review names the category: the whole review is the evidence
    assert analyzer.judge_terms(fresh[:1], fresh_categories[:1])[0].evidence == fresh[0]


_SPOKEN = {"dish taste": {1: ["菜很好吃", "味道很棒"], -1: ["菜很难吃", "味道很差"]},
           "service wait time": {1: ["上菜很快", "不用排队"], -1: ["上菜太慢", "排队很久"]},
           "parking": {1: ["停车方便", "车位很多"], -1: ["停车太难", "没有车位"]}}


def _some_categories_reviews(n: int, seed: int) -> tuple[list[str], list[str], list[int]]:
    """Reviews speaking of one or two of three categories (none named in the text), annotated
    with exactly those, one row per (review, category), as ASAP's mentioned ones are."""
    rng = np.random.default_rng(seed)
    texts, categories, labels = [], [], []
    for k in range(n):
        spoken = list(rng.choice(list(_SPOKEN), size=rng.integers(1, 3), replace=False))
        sides = rng.choice([1, -1], size=len(spoken))
        text = f"第{k}次来，" + "，".join(str(rng.choice(_SPOKEN[c][int(s)]))
                                        for c, s in zip(spoken, sides))
        texts += [text] * len(spoken)
        categories += spoken
        labels += [int(s) for s in sides]
    return texts, categories, labels


def test_a_learned_category_is_judged_only_in_the_reviews_that_speak_of_it(tmp_path):
    analyzer = ReviewAnalyzer().fit_terms(*_some_categories_reviews(300, 0))
    assert sorted(analyzer.mention_model.categories_) == sorted(_SPOKEN)
    loaded = ReviewAnalyzer.load(analyzer.save(tmp_path / "a"))
    texts, categories, labels = _some_categories_reviews(100, 1)
    truth = {(t, c): y for t, c, y in zip(texts, categories, labels)}
    reviews = list(dict.fromkeys(texts))
    said = {(a.text, o.term): o.polarity for a in loaded.analyze(reviews, terms=list(_SPOKEN))
            for o in a.terms}
    asked = [(t, c) for t in reviews for c in _SPOKEN]
    spoken = np.array([pair in truth for pair in asked])
    answered = np.array([pair in said for pair in asked])
    assert 0.3 < spoken.mean() < 0.7 and np.mean(answered == spoken) > 0.95
    right = [said[pair] == ("positive" if y > 0 else "negative") for pair, y in truth.items()
             if pair in said]
    assert np.mean(right) > 0.95
    # the evidence is the clause that speaks of the category, not the whole review
    [analysis] = loaded.analyze(["第一次来，停车太难，菜很好吃"], terms=["parking", "dish taste"])
    assert [(o.term, o.polarity, o.evidence.strip("，")) for o in analysis.terms] == [
        ("parking", "negative", "停车太难"), ("dish taste", "positive", "菜很好吃")]
    o = analysis.terms[0]
    assert analysis.text[o.start:o.end] == o.evidence
    # an annotated pair is judged as given (the SemEval task), spoken of or not
    assert all(o is not None for o in loaded.judge_terms([t for t, _ in asked],
                                                         [c for _, c in asked]))
    # and in insight, beside the taxonomy's aspects, counted in the reviews that speak of them
    report = ReviewInsights(loaded).build(pd.DataFrame({"text": reviews}))
    counted = {a["aspect"]: (a["positive"], a["negative"]) for a in report["aspects"]}
    for category in _SPOKEN:
        said = [y for (_, c), y in truth.items() if c == category]
        expected = (said.count(1), said.count(-1))
        assert np.abs(np.subtract(counted[category], expected)).sum() <= 0.1 * len(said)
    assert {n["aspect"] for n in report["needs"]} == set(_SPOKEN)  # each is complained about
    assert "改进parking" in report["summary"]  # the reviews are Chinese, so is the summary
    # a category annotated on too few reviews to learn where it is spoken of is judged in all
    rare = ReviewAnalyzer().fit_terms(*[a + b for a, b in zip(
        _some_categories_reviews(300, 0), (["环境很好，第一次来", "环境一般"], ["decor"] * 2, [1, 0]))])
    assert not rare.mention_model.detects("decor") and rare.mention_model.detects("Parking")
    assert all(a.terms for a in rare.analyze(reviews[:5], terms=["decor"]))
    with pytest.raises(DataError, match="category 'decor' at row 1 has no detector"):
        rare.mention_model.mentioned(reviews[:2], ["parking", "decor"])


def _annotated_shop(store, texts: list[str], terms: list[str], labels: list[str]) -> None:
    """A store whose reviews carry the aspect annotations (and a star rating from them)."""
    aspects: dict[str, dict[str, str]] = {}
    for text, term, label in zip(texts, terms, labels):
        aspects.setdefault(text, {})[term] = label
    stars = {"positive": 5.0, "neutral": 3.0, "negative": 1.0}
    store.ingest(Batch.from_frames(
        items=pd.DataFrame({"item_id": ["p"]}),
        reviews=pd.DataFrame({"item_id": "p", "text": list(aspects),
                              "rating": [stars[next(iter(a.values()))] for a in aspects.values()],
                              "aspects": list(aspects.values())})))


def test_the_engine_reports_how_well_it_finds_the_shops_categories(tmp_path):
    from shopmind.config import Settings
    from shopmind.data.store import Store
    from shopmind.engine_search_reviews import train_reviews, unpack_analyzer

    store = Store(f"sqlite:///{tmp_path}/shop.db")
    texts, categories, labels = _some_categories_reviews(300, 0)
    _annotated_shop(store, texts, categories, ["positive" if y > 0 else "negative" for y in labels])
    trained = train_reviews(store, Settings(), out_dir=tmp_path)
    m = trained.metrics
    assert m["aspect_categories_detected"] == 3 and m["aspect_mention_f1"] > 0.9
    assert unpack_analyzer(trained.path).mention_model.detects("parking")
    store.close()


def _noisy_battery_reviews(n: int, seed: int) -> tuple[list[str], list[str], list[str]]:
    """Reviews the lexicon reads right, annotated against their words a fifth of the time: no
    model can learn more than the lexicon already reads."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for k in range(n):
        good = rng.random() < 0.5
        texts.append(f"review {k}: the battery is {'great' if good else 'terrible'}")
        labels.append("positive" if good == (rng.random() < 0.8) else "negative")
    return texts, ["battery"] * n, labels


@pytest.mark.parametrize(("reviews", "model_serves"), [
    (lambda: _jargon_reviews(150, 0), True), (lambda: _noisy_battery_reviews(300, 0), False)])
def test_the_engine_serves_the_aspect_model_only_where_it_judges_better(reviews, model_serves,
                                                                        tmp_path):
    from shopmind.config import Settings
    from shopmind.data.store import Store
    from shopmind.engine_search_reviews import train_reviews, unpack_analyzer

    store = Store(f"sqlite:///{tmp_path}/shop.db")
    _annotated_shop(store, *reviews())
    trained = train_reviews(store, Settings(), out_dir=tmp_path)
    m = trained.metrics
    assert (m["aspect_model_accuracy"] > m["aspect_lexicon_accuracy"]) == model_serves
    assert unpack_analyzer(trained.path).terms_fitted == model_serves
    if model_serves:  # the jargon: the lexicon reads none of it
        assert m["aspect_model_accuracy"] > 0.95 > m["aspect_lexicon_accuracy"]
    store.close()


def test_asked_aspects_by_name_get_what_the_review_says_of_them():
    [analysis] = ReviewAnalyzer().analyze(["做工很好，但是物流太慢了"],
                                          terms=["quality", "物流", "price"])
    assert [(t.term, t.polarity) for t in analysis.terms] == [("quality", "positive"),
                                                             ("物流", "negative")]
    quality = analysis.terms[0]
    assert analysis.text[quality.start:quality.end] == quality.evidence == "做工很好"


def test_labels_are_read_in_every_common_form():
    assert to_polarity(["Positive", "negative", 0, 1.0, -1]).tolist() == \
        ["positive", "negative", "neutral", "positive", "negative"]
    assert to_polarity(["正面", "中性", "负面", "差评"]).tolist() == \
        ["positive", "neutral", "negative", "negative"]
    with pytest.raises(DataError, match="not a polarity"):
        to_polarity(["great"])
    with pytest.raises(DataError, match="exactly one"):
        ReviewAnalyzer().fit(["a"], labels=[1], ratings=[5])


def test_unfitted_models_say_so():
    with pytest.raises(NotFittedError):
        NgramSentimentClassifier().predict(["x"])
    with pytest.raises(NotFittedError):
        AspectTermClassifier().predict(["x"], ["x"])


def test_mentions_frame_columns(shop):
    mentions = ReviewAnalyzer().mentions_frame(shop.reviews.iloc[:50])
    assert {"review_id", "item_id", "aspect", "polarity", "score", "strength",
            "evidence"} <= set(mentions.columns)
    assert mentions["strength"].between(0, 1).all()
    assert set(mentions["polarity"]) <= set(POLARITIES)
    assert isinstance(mentions, pd.DataFrame)


def test_a_packed_analyzer_refuses_paths_that_leave_it(tmp_path):
    import zipfile

    from shopmind.engine_search_reviews import extract_analyzer, pack_analyzer, unpack_analyzer

    analyzer = ReviewAnalyzer().fit_terms(*_jargon_reviews(30, 0))
    assert unpack_analyzer(pack_analyzer(analyzer, tmp_path / "a.zip")).terms_fitted
    assert ReviewAnalyzer.load(extract_analyzer(tmp_path / "a.zip", tmp_path / "out")).terms_fitted
    for name in ("../evil.json", "/abs.json", ".hidden/x"):
        archive = tmp_path / "bad.zip"
        with zipfile.ZipFile(archive, "w") as zf:
            zf.writestr("analyzer.json", "{}")  # a good name first: nothing is written at all
            zf.writestr(name, "{}")
        with pytest.raises(DataError, match="not a packed review analyzer"):
            unpack_analyzer(archive)
        with pytest.raises(DataError, match="not a packed review analyzer"):
            extract_analyzer(archive, tmp_path / "refused")
        assert not (tmp_path / "refused").exists()


def test_a_grouped_holdout_keeps_each_group_whole_and_each_class_in_share():
    rng = np.random.default_rng(3)
    groups = np.repeat(np.arange(300), rng.integers(1, 4, 300))  # 1-3 rows per sentence
    y = np.where(groups % 3 == 0, "negative", "positive")  # a group's rows share a class here
    held = stratified_holdout(y, 0.2, seed=5, groups=groups)
    inside = np.isin(groups, groups[held])
    assert np.array_equal(np.flatnonzero(inside), held)  # a group is held whole or not at all
    for c in ("negative", "positive"):
        held_groups = np.unique(groups[held][y[held] == c]).size
        assert held_groups == round(0.2 * np.unique(groups[y == c]).size)
    assert np.array_equal(stratified_holdout(y, 0.2, 5, groups=groups), held)  # seeded
    # without groups each row is its own group
    rows = stratified_holdout(y, 0.2, seed=5)
    assert rows.size == sum(round(0.2 * (y == c).sum()) for c in ("negative", "positive"))
    assert stratified_holdout(y, 0.2, 5, groups=np.arange(y.size)).size == rows.size
