"""Split a cleaned document into token-bounded chunks that keep their heading path."""

from __future__ import annotations

from collections.abc import Callable

from llama_index.core import Document as LlamaDocument
from llama_index.core.node_parser import MarkdownNodeParser, SentenceSplitter

from ingest.models import Chunk, Document

HEADING_SEPARATOR = " > "


class Chunker:
    """Section-aware, token-aware chunking with llama-index's splitters.

    The Markdown parser cuts the text at headings (never inside code fences), then the
    sentence splitter cuts long sections into ``chunk_size``-token pieces with
    ``chunk_overlap`` tokens of overlap, counting tokens with the embedder's tokenizer
    (``count_tokens``; llama-index only ever takes the ``len`` of what its tokenizer returns).
    """

    def __init__(self, *, chunk_size: int, chunk_overlap: int, count_tokens: Callable[[str], int]) -> None:
        if not 0 <= chunk_overlap < chunk_size:
            raise ValueError(f"chunk_overlap ({chunk_overlap}) must be >= 0 and < chunk_size ({chunk_size})")
        self.chunk_size = chunk_size
        self.chunk_overlap = chunk_overlap
        self._sections = MarkdownNodeParser.from_defaults(
            include_prev_next_rel=False, header_path_separator=HEADING_SEPARATOR
        )
        self._splitter = SentenceSplitter(
            chunk_size=chunk_size, chunk_overlap=chunk_overlap, tokenizer=lambda text: range(count_tokens(text)),
            include_metadata=False,
        )

    def chunk_document(self, document: Document) -> list[Chunk]:
        """The document's chunks in reading order, each carrying its heading path."""
        sections = self._sections.get_nodes_from_documents([LlamaDocument(text=document.text)])
        chunks: list[Chunk] = []
        for section in sections:
            heading = _heading_path(section.metadata.get("header_path", ""), section.text)
            for piece in self._splitter.split_text(section.text):
                if not piece.strip():
                    continue
                chunks.append(
                    Chunk(
                        doc_id=document.id,
                        index=len(chunks),
                        text=piece.strip(),
                        heading=heading,
                        title=document.title,
                        url=document.url,
                        source=document.source,
                        content_hash=document.content_hash,
                        language=document.language,
                        metadata=document.metadata,
                    )
                )
        return chunks


def _heading_path(parent_path: str, section_text: str) -> str:
    """Join the parent headings with the section's own heading line, if it starts with one."""
    parts = [part.strip() for part in parent_path.split(HEADING_SEPARATOR) if part.strip()]
    first_line = section_text.lstrip().split("\n", 1)[0]
    if first_line.startswith("#"):
        own = first_line.lstrip("#").strip()
        if own:
            parts.append(own)
    return HEADING_SEPARATOR.join(parts)
