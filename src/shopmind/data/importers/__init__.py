"""Importers: real-data formats and generic files → a validated :class:`~shopmind.data.batch.Batch`.

An importer only reads and validates; the caller stores the batch with
:meth:`shopmind.data.store.Store.ingest`, in one transaction.
"""

from shopmind.data.importers.amazon_seqrec import read_amazon_seqrec
from shopmind.data.importers.generic import read_entity_file
from shopmind.data.importers.movielens import read_movielens_100k
from shopmind.data.importers.reviews import read_reviews_file

__all__ = ["read_amazon_seqrec", "read_movielens_100k", "read_reviews_file", "read_entity_file"]
