"""Text utilities shared by every capability: language detection, tokenisation, encoders."""

from shopmind.text.language import detect_language, detect_languages

__all__ = ["detect_language", "detect_languages"]
