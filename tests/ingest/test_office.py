"""PDF (text layer) and DOCX documents keep their title, headings, lists and tables."""

from __future__ import annotations

import io

import pytest

from ingest.errors import DocumentTooLarge, EmptyDocument, IngestError
from ingest.loaders import load_document


def make_pdf(pages: list[list[str]], title: str = "") -> bytes:
    """A minimal valid PDF with one Helvetica text line per string (built by hand: no PDF writer needed)."""
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>", b""]
    kids = []
    font_id = 3
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for lines in pages:
        stream = b"BT /F1 12 Tf 72 720 Td 14 TL " + b" ".join(
            b"(" + line.encode("latin-1").replace(b"(", b"\\(").replace(b")", b"\\)") + b") Tj T*" for line in lines
        ) + b" ET"
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        content_id = len(objects)
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 %d 0 R >> >> "
                       b"/Contents %d 0 R >>" % (font_id, content_id))
        kids.append(len(objects))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % k for k in kids), len(kids))
    info = b""
    if title:
        objects.append(b"<< /Title (" + title.encode("latin-1") + b") >>")
        info = b" /Info %d 0 R" % len(objects)
    out = io.BytesIO(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, info, xref))
    return out.getvalue()


def make_docx() -> bytes:
    import docx

    document = docx.Document()
    document.core_properties.title = "VPN guide"
    document.add_heading("Connecting to the VPN", level=1)
    document.add_paragraph("Install the client first.")
    document.add_paragraph("Open the client", style="List Number")
    document.add_paragraph("Sign in with SSO", style="List Bullet")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "OS", "Client"
    table.cell(1, 0).text, table.cell(1, 1).text = "Windows", "AnyConnect"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_pdf_text_layer_and_title():
    data = make_pdf([["Refund policy", "Annual plans: 14 days."], ["Page two (contact us)."]], title="Refunds")
    document = load_document(data, doc_id="r.pdf", name="r.pdf")
    assert document.title == "Refunds"
    assert document.content_type == "application/pdf"
    assert "Annual plans: 14 days." in document.text
    assert "Page two (contact us)." in document.text


def test_pdf_limits_and_broken_files():
    with pytest.raises(DocumentTooLarge, match="3 pages"):
        load_document(make_pdf([["a"], ["b"], ["c"]]), doc_id="x.pdf", name="x.pdf", max_pdf_pages=2)
    with pytest.raises(EmptyDocument, match="no text layer"):
        load_document(make_pdf([[]]), doc_id="x.pdf", name="x.pdf")
    with pytest.raises(IngestError, match="not a readable PDF"):
        load_document(b"%PDF-1.4\nthis is not really a pdf", doc_id="x.pdf", name="x.pdf")


def test_docx_keeps_headings_lists_and_tables():
    document = load_document(make_docx(), doc_id="vpn.docx", name="vpn.docx")
    assert document.title == "VPN guide"
    assert "## Connecting to the VPN" in document.text
    assert "- Open the client" in document.text and "- Sign in with SSO" in document.text
    assert "| OS | Client |" in document.text and "| Windows | AnyConnect |" in document.text


def test_docx_as_json_text_is_refused():
    from ingest.errors import UnsupportedContentType

    with pytest.raises(UnsupportedContentType, match="uploaded as a file"):
        load_document("text", doc_id="a", content_type="docx")
