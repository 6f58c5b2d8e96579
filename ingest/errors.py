"""Errors raised by the ingest stage. Each names the problem in a sentence a user can act on."""


class IngestError(Exception):
    """Base class for documents that cannot be ingested."""


class EmptyDocument(IngestError):
    """Nothing readable is left after cleaning."""


class BinaryContent(IngestError):
    """The bytes are not text in any supported encoding."""


class UnsupportedContentType(IngestError):
    """The file type or content type is not one Sift ingests."""


class DocumentTooLarge(IngestError):
    """The upload exceeds the configured size limit."""


class EmptyTicket(EmptyDocument):
    """Nothing of the customer's own is left once quotes, signatures and greetings are removed."""


class EmbedderUnavailable(IngestError):
    """The embedding model named by ``SIFT_EMBED_MODEL`` cannot be loaded."""
