"""Every error a shopmind user can see, each saying what to do about it.

The tree::

    ShopmindError
    ├── ConfigError              bad settings or environment
    ├── MissingDependencyError   an optional package is not installed (names the pip command)
    ├── StoreError               the database cannot be reached or is in a bad state
    ├── NotFoundError            an id that does not exist (item, user, model, ...)
    ├── NotFittedError           a model used before ``fit``/``load``
    └── DataError                the input data itself is wrong
        └── InputError           one bad value: names the source, line, field and reason
            ├── SchemaError          a required column/field is missing
            ├── UnknownReferenceError  a row points to an id the store does not have
            └── ConflictError        an id already stored with different content
"""

from __future__ import annotations

__all__ = [
    "ShopmindError",
    "ConfigError",
    "MissingDependencyError",
    "StoreError",
    "NotFoundError",
    "NotFittedError",
    "DataError",
    "InputError",
    "SchemaError",
    "UnknownReferenceError",
    "ConflictError",
]


class ShopmindError(Exception):
    """Base class of every error raised on purpose by shopmind."""


class ConfigError(ShopmindError):
    """A setting or environment variable is wrong."""


class MissingDependencyError(ShopmindError, ImportError):
    """An optional dependency is missing; the message names the install command."""

    def __init__(self, package: str, purpose: str):
        self.package = package
        super().__init__(
            f"{purpose} needs the package '{package}'. Install it with: pip install {package}"
        )


class StoreError(ShopmindError):
    """The store cannot be opened or written."""


class NotFoundError(ShopmindError, KeyError):
    """A requested id does not exist."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class NotFittedError(ShopmindError, RuntimeError):
    """A model was used before it was fitted or loaded."""


class DataError(ShopmindError, ValueError):
    """Input data is wrong."""


class InputError(DataError):
    """One bad value in the input, located by source, line and field.

    >>> err = InputError("items.csv", 7, "price", "'abc' is not a number")
    >>> str(err).split(". ")[0]
    "items.csv line 7, field 'price': 'abc' is not a number"
    """

    def __init__(self, source: str, line: int | None, field: str | None, reason: str):
        self.source = source
        self.line = line
        self.field = field
        self.reason = reason
        where = source
        if line is not None:
            where += f" line {line}"
        if field is not None:
            where += f", field '{field}'"
        super().__init__(
            f"{where}: {reason}. Nothing was imported; fix the input and run again."
        )


class SchemaError(InputError):
    """A required column is missing or the input cannot be parsed at all."""


class UnknownReferenceError(InputError):
    """A row refers to an item/user/order that is neither stored nor in the same import."""


class ConflictError(InputError):
    """An id (or idempotency key) is already stored with different content."""
