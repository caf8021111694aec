"""Keep personal data out of logs: e-mail addresses, phone numbers and street addresses.

A logging filter rewrites each record's message (and traceback) before any handler sees it.
Patterns, not a model: they catch the common shapes in English and Chinese text and err on the
side of redacting.

>>> redact("user ann.lee@example.com called +44 20 7946 0958 from 221B Baker Street")
'user [email] called [phone] from [address]'
>>> redact("手机13812345678，地址：北京市朝阳区建国路88号")
'手机[phone]，地址：[address]'
>>> redact("GET /v1/recommend/for-you 200 3.1 ms sku-00017")
'GET /v1/recommend/for-you 200 3.1 ms sku-00017'
"""

from __future__ import annotations

import logging
import re

__all__ = ["redact", "RedactingFilter", "install_redaction", "LOGGERS"]

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONES = [
    re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)"),  # Chinese mobile
    re.compile(r"\+\d{1,3}[\s.-]?\(?\d{1,4}\)?(?:[\s.-]?\d{2,4}){2,4}(?!\d)"),  # international
    re.compile(r"(?<!\d)\(?\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}(?!\d)"),  # 555-123-4567
    re.compile(r"(?<![\d.])0\d{2,3}-?\d{7,8}(?!\d)"),  # Chinese landline 010-12345678
]
_ADDRESSES = [
    re.compile(r"\b\d{1,5}[A-Za-z]?\s+(?:[A-Z][\w'-]*\s+){0,4}(?:Street|St|Avenue|Ave|Road|Rd|"
               r"Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Square|Sq|Terrace)\b\.?"),
    re.compile(r"[\u4e00-\u9fff]{2,8}(?:省|市|自治区)[\u4e00-\u9fff0-9]{0,24}?"
               r"(?:区|县|镇|路|街|道|巷|号|室|楼|栋|单元)[\u4e00-\u9fff0-9#-]*?(?:号|室|楼|栋|单元)?"
               r"(?=[^\u4e00-\u9fff0-9#-]|$)"),
]


def redact(text: str) -> str:
    """``text`` with e-mails, phone numbers and addresses replaced by placeholders."""
    text = _EMAIL.sub("[email]", text)
    for pattern in _ADDRESSES:
        text = pattern.sub("[address]", text)
    for pattern in _PHONES:
        text = pattern.sub("[phone]", text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites a record's message and traceback with :func:`redact` (never drops a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record is logged as its bare template
            message = str(record.msg)
        record.msg, record.args = redact(message), None
        if record.exc_info:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


LOGGERS = ("shopmind", "shopmind.api", "shopmind.api.access", "shopmind.live", "uvicorn",
           "uvicorn.error", "uvicorn.access", "fastapi")


def install_redaction() -> None:
    """Put the filter on every logger the service writes through and on the root handlers.

    Logger filters only see records created on that very logger, so each one gets its own.
    """
    shared = RedactingFilter()
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(shared)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(shared)
