"""The benchmark's dataset readers take every shape a review set of each layout comes in."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "review_data.py"
_spec = importlib.util.spec_from_file_location("review_data", _PATH)
review_data = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(review_data)

SEMEVAL = """<?xml version="1.0" encoding="UTF-8"?>
<sentences>
  <sentence id="1"><text>The food was great, the food court outside was not.</text>
    <aspectTerms>
      <aspectTerm term="food" polarity="positive" from="4" to="8"/>
      <aspectTerm term="food court" polarity="negative" from="24" to="34"/>
      <aspectTerm term="outside" polarity="conflict" from="35" to="42"/>
    </aspectTerms>
    <aspectCategories><aspectCategory category="food" polarity="positive"/></aspectCategories>
  </sentence>
  <sentence id="2"><text>Nice place.</text>
    <aspectCategories><aspectCategory category="ambience" polarity="positive"/></aspectCategories>
  </sentence>
</sentences>
"""


def test_semeval_xml_marks_each_term_where_it_stands(tmp_path):
    (tmp_path / "Rest_Train.xml").write_text(SEMEVAL)
    (tmp_path / "Rest_Test.xml").write_text(SEMEVAL.replace("aspectTerm", "x"))
    [(name, train, test)] = review_data.aspect_datasets(tmp_path)
    assert name == tmp_path.name
    # terms only (conflict left out); the second "food" is the one inside "food court"
    assert train.values.tolist() == [
        ["The $T$ was great, the food court outside was not.", "food", "positive"],
        ["The food was great, the $T$ outside was not.", "food court", "negative"]]
    # a file with no aspect terms is read as aspect categories
    assert test["term"].tolist() == ["food", "ambience"]


def test_gb18030_tab_separated_sentiment_with_text_a(tmp_path):
    path = tmp_path / "train.csv"
    path.write_bytes("label\ttext_a\n1\t质量很好，很满意\n0\t太差了，退货\n".encode("gb18030"))
    texts, labels, categories = review_data.read_sentiment(path, with_categories=True)
    assert texts == ["质量很好，很满意", "太差了，退货"]
    assert labels.tolist() == [1, 0] and labels.dtype == np.int64
    assert categories == [None, None]


def test_missing_columns_and_splits_are_named(tmp_path):
    (tmp_path / "train.csv").write_text("words,stars\nok,5\n")
    with pytest.raises(review_data.UnreadableFile, match="no text column.*words, stars"):
        review_data.read_sentiment(tmp_path / "train.csv")
    with pytest.raises(review_data.UnreadableFile, match="neither test.csv nor dev.csv"):
        review_data.sentiment_splits(tmp_path)
    (tmp_path / "dev.csv").write_text("text,label\nok,1\n")
    assert review_data.sentiment_splits(tmp_path) == ([tmp_path / "train.csv"],
                                                      tmp_path / "dev.csv")


def test_aspect_tables_long_and_category_columns(tmp_path, capsys):
    long = tmp_path / "long"
    long.mkdir()
    (long / "train.csv").write_text("sentence,aspect,polarity\nbattery dies fast,battery,-1\n")
    (long / "test.csv").write_text("sentence,aspect,polarity\ngreat screen,screen,1\n")
    [(_, train, _)] = review_data.aspect_datasets(long)
    assert train.values.tolist() == [["battery dies fast", "battery", -1]]

    asap = tmp_path / "asap"
    asap.mkdir()
    table = "id,reviewbody,star,dish_taste,service_wait_time\n1,好吃但排队久,4,1,-1\n2,一般,3,0,-2\n"
    (asap / "train_sample.csv").write_text(table)
    (asap / "test_sample.csv").write_text(table)
    [(_, train, _)] = review_data.aspect_datasets(asap)
    assert sorted(map(tuple, train.values.tolist())) == [
        ("一般", "dish taste", 0), ("好吃但排队久", "dish taste", 1),
        ("好吃但排队久", "service wait time", -1)]

    odd = tmp_path / "odd"
    odd.mkdir()
    (odd / "a_train.txt").write_text("just some words\n")
    (odd / "a_test.txt").write_text("just some words\n")
    assert review_data.aspect_datasets(odd) == []
    assert "odd left out" in capsys.readouterr().err
