"""Turn raw bytes or text of a supported format into a cleaned ``Document``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from ingest.errors import EmptyDocument, UnsupportedContentType
from ingest.html import clean_html
from ingest.models import Document
from ingest.office import docx_to_text, pdf_to_text
from ingest.page_metadata import PageMetadata, html_metadata, json_safe, split_front_matter
from ingest.text import decode_bytes, normalize_text

HTML = "text/html"
MARKDOWN = "text/markdown"
TEXT = "text/plain"
PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
BINARY_FORMATS = (PDF, DOCX)

CONTENT_TYPES_BY_SUFFIX = {
    ".html": HTML,
    ".htm": HTML,
    ".xhtml": HTML,
    ".md": MARKDOWN,
    ".markdown": MARKDOWN,
    ".txt": TEXT,
    ".text": TEXT,
    ".pdf": PDF,
    ".docx": DOCX,
}
CONTENT_TYPE_ALIASES = {
    "html": HTML,
    "application/xhtml+xml": HTML,
    "markdown": MARKDOWN,
    "text/x-markdown": MARKDOWN,
    "md": MARKDOWN,
    "text": TEXT,
    "txt": TEXT,
    "pdf": PDF,
    "docx": DOCX,
}
SUPPORTED = sorted(set(CONTENT_TYPES_BY_SUFFIX.values()))


def resolve_content_type(name: str | None, declared: str | None = None) -> str:
    """The content type Sift will parse ``name`` as: declared if specific, else from the suffix."""
    media = (declared or "").split(";", 1)[0].strip().lower()
    media = CONTENT_TYPE_ALIASES.get(media, media)
    if media in SUPPORTED:
        return media
    suffix = PurePosixPath(name or "").suffix.lower()
    if suffix in CONTENT_TYPES_BY_SUFFIX:
        return CONTENT_TYPES_BY_SUFFIX[suffix]
    shown = declared or (suffix and f"'{suffix}' files") or "this content"
    raise UnsupportedContentType(
        f"unsupported content type for {name or 'document'!r}: {shown}; supported: {', '.join(SUPPORTED)}"
        f" (suffixes {', '.join(sorted(CONTENT_TYPES_BY_SUFFIX))})"
    )


def charset_of(declared: str | None) -> str | None:
    """The ``charset=`` parameter of a Content-Type header, if any."""
    match = re.search(r"charset=([\w.:-]+)", declared or "", re.IGNORECASE)
    return match.group(1) if match else None


def load_document(
    content: bytes | str,
    *,
    doc_id: str,
    name: str | None = None,
    content_type: str | None = None,
    title: str | None = None,
    url: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    max_pdf_pages: int = 500,
) -> Document:
    """Decode, clean and normalise one document. Raises an ``IngestError`` naming the problem.

    What the page declares about itself (Markdown front matter, an HTML head's canonical URL, language and
    description) fills title, url, language and metadata; the ``title``, ``url`` and ``metadata`` given win.
    """
    media = resolve_content_type(name, content_type)
    label = name or doc_id
    warnings: tuple[str, ...] = ()
    page = PageMetadata()
    if media in BINARY_FORMATS:
        if isinstance(content, str):
            raise UnsupportedContentType(f"{label!r}: {media} must be uploaded as a file, not as JSON text")
        found_title, body = pdf_to_text(content, max_pages=max_pdf_pages) if media == PDF else docx_to_text(content)
        return _document(doc_id, title, found_title, body, media, name, url, metadata, page)
    text = content if isinstance(content, str) else decode_bytes(content, charset_of(content_type))
    if media == HTML:
        page = html_metadata(text)
        cleaned = clean_html(text, url=url or page.url)
        body, found_title, warnings = cleaned.text, cleaned.title, cleaned.warnings
    else:
        if media == MARKDOWN:
            page, text = split_front_matter(text)
        body = normalize_text(text)
        found_title = _markdown_title(body) if media == MARKDOWN else ""
    if not body.strip():
        raise EmptyDocument(f"{label!r} has no readable text after cleaning")
    return _document(doc_id, title, found_title, body, media, name, url, metadata, page, warnings)


def _document(doc_id: str, title: str | None, found_title: str, body: str, media: str, name: str | None,
              url: str | None, metadata: Mapping[str, Any] | None, page: PageMetadata,
              warnings: tuple[str, ...] = ()) -> Document:
    final_title = (normalize_text(title or "", keep_newlines=False) or normalize_text(page.title or "",
                   keep_newlines=False) or found_title or _title_from_name(name) or doc_id)
    return Document(id=doc_id, title=final_title, text=body, content_type=media, source=name,
                    url=url or page.url, language=page.language,
                    metadata={**page.metadata, **json_safe(metadata or {})}, warnings=warnings)


def _markdown_title(text: str) -> str:
    match = re.search(r"^#\s+(.+)$", text, re.MULTILINE)
    return match.group(1).strip() if match else ""


def _title_from_name(name: str | None) -> str:
    stem = PurePosixPath(name or "").name
    for suffix in (".gz", *CONTENT_TYPES_BY_SUFFIX):
        stem = stem.removesuffix(suffix)
    return stem.replace("_", " ").replace("-", " ").strip()
