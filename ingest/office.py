"""PDF (text layer) and DOCX to Markdown-flavoured text, keeping titles and headings."""

from __future__ import annotations

import io
import re

from ingest.errors import DocumentTooLarge, EmptyDocument, IngestError
from ingest.text import normalize_text


def pdf_to_text(data: bytes, *, max_pages: int) -> tuple[str, str]:
    """(title, text) of a PDF's text layer, one blank line between pages."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise IngestError("the PDF is encrypted")
        pages = reader.pages
        if len(pages) > max_pages:
            raise DocumentTooLarge(f"the PDF has {len(pages)} pages; the limit is {max_pages} (SIFT_MAX_PDF_PAGES)")
        texts = [page.extract_text() or "" for page in pages]
        title = str((reader.metadata or {}).get("/Title") or "").strip()
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise IngestError(f"not a readable PDF: {exc}") from exc
    text = normalize_text("\n\n".join(texts))
    if not text.strip():
        raise EmptyDocument("the PDF has no text layer (scanned pages need OCR first)")
    return title, text


def docx_to_text(data: bytes) -> tuple[str, str]:
    """(title, text) of a Word document: headings as ``#`` lines, list items as ``- ``, tables as rows."""
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises several unrelated types for broken files
        raise IngestError(f"not a readable DOCX file: {exc}") from exc
    blocks: list[str] = []
    title = (document.core_properties.title or "").strip()
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            text = block.text.strip()
            if not text:
                continue
            style = (block.style.name if block.style is not None else "") or ""
            level = re.match(r"Heading (\d)", style)
            if style == "Title":
                title = title or text
                blocks.append(f"# {text}")
            elif level:
                blocks.append(f"{'#' * min(int(level.group(1)) + 1, 6)} {text}")
            elif "List" in style:
                blocks.append(f"- {text}")
            else:
                blocks.append(text)
        elif isinstance(block, Table):
            rows = ["| " + " | ".join(cell.text.strip().replace("\n", " ") for cell in row.cells) + " |"
                    for row in block.rows]
            if rows:
                width = rows[0].count("|") - 1
                rows.insert(1, "|" + " --- |" * width)
                blocks.append("\n".join(rows))
    text = normalize_text("\n\n".join(blocks))
    if not text.strip():
        raise EmptyDocument("the DOCX file has no text")
    return title, text
