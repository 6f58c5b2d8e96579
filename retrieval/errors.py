"""Errors raised by the retrieval stage."""


class RetrievalError(Exception):
    """Base class for store and search failures."""


class StoreUnavailable(RetrievalError):
    """The vector store cannot be opened or reached."""


class StoreIncompatible(RetrievalError):
    """The stored data does not fit the configured embedding model (e.g. another dimension)."""


class CollectionNotFound(RetrievalError):
    """No collection of that name exists."""


class CollectionExists(RetrievalError):
    """A collection of that name already exists."""


class DocumentNotFound(RetrievalError):
    """No document with that id exists in the collection."""


class EmbedderMismatch(RetrievalError):
    """A collection's vectors were made by another embedding model than the configured one."""
