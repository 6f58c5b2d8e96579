"""PDF (text layer) and DOCX to Markdown-flavoured text, keeping titles and headings."""

from __future__ import annotations

import io
import re

from ingest.archives import InflateBudget, zip_members
from ingest.errors import DocumentTooLarge, EmptyDocument, IngestError
from ingest.text import normalize_text

DOCX_MAX_PARTS = 2000  # a long report with many images has a few hundred parts
DOCX_MAX_INFLATED = 256 * 1024 * 1024


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
    except IngestError:
        raise
    except PdfReadError as exc:
        raise IngestError(f"not a readable PDF: {exc}") from None
    except Exception as exc:  # pypdf raises many unrelated types for broken files; all mean "broken PDF"
        raise IngestError(f"not a readable PDF ({type(exc).__name__})") from None
    text = normalize_text("\n\n".join(texts))
    if not text.strip():
        raise EmptyDocument("the PDF has no text layer (scanned pages need OCR first)")
    return title, text


def check_docx(data: bytes, *, budget: InflateBudget, name: str = "the DOCX file") -> None:
    """Refuse a DOCX whose zip has too many parts, inflates past the budget or is broken, before
    python-docx (which trusts the zip) inflates it."""
    zip_members(name, data, max_members=DOCX_MAX_PARTS, max_bytes=budget.max_bytes, budget=budget)


def docx_to_text(data: bytes) -> tuple[str, str]:
    """(title, text) of a Word document: headings as ``#`` lines, list items as ``- ``, tables as rows."""
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    check_docx(data, budget=InflateBudget(DOCX_MAX_INFLATED))
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises several unrelated types for broken files
        raise IngestError(f"not a readable DOCX file: {exc}") from None
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
