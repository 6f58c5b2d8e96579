"""Reading an upload request into documents, within every limit, before anything is written.

Two shapes: multipart ``files`` (each may be a document, a ``.gz`` or a ``.zip``; optional ``url``
and ``metadata`` form fields, once for all files or once per file, in order) or JSON
``{"documents": [...]}``. The body itself is already capped while it is read (``api.guards``);
here every document is checked against ``SIFT_MAX_UPLOAD_BYTES``, the request's document count
against ``SIFT_MAX_FILES_PER_REQUEST`` and everything inflated against ``SIFT_MAX_INFLATED_BYTES``.
Inflating, JSON parsing and validation run in worker threads, off the event loop.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from pydantic import TypeAdapter, ValidationError
from starlette.datastructures import UploadFile

from api.ingestion import IngestItem
from api.schemas import DocumentIn, DocumentsIn
from api.settings import Settings
from ingest.archives import InflateBudget
from ingest.errors import DocumentTooLarge, IngestError
from ingest.loaders import DOCX, resolve_content_type
from ingest.office import check_docx
from ingest.sources import unpack

MAX_FORM_FIELDS = 1000


async def read_upload(request: Request, settings: Settings) -> list[IngestItem]:
    """The request's documents, or an ``IngestError`` (4xx) naming the first problem."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == "multipart/form-data":
        items = await _read_multipart(request, settings)
    elif media == "application/json":
        items = await run_in_threadpool(_parse_json, await request.body(), settings)
    else:
        raise IngestError(f"unsupported request content type {media or 'none'!r}; "
                          "send multipart/form-data with 'files' or application/json with 'documents'")
    if len(items) > settings.max_files_per_request:
        raise DocumentTooLarge(f"{len(items)} documents in one request; the limit is "
                               f"{settings.max_files_per_request} (SIFT_MAX_FILES_PER_REQUEST)")
    for item in items:
        size = len(item.content.encode("utf-8")) if isinstance(item.content, str) else len(item.content)
        if size > settings.max_upload_bytes:
            raise DocumentTooLarge(f"{item.label!r} is {size} bytes; the limit is {settings.max_upload_bytes} "
                                   "(SIFT_MAX_UPLOAD_BYTES)")
    return items


async def _read_multipart(request: Request, settings: Settings) -> list[IngestItem]:
    form = await request.form(max_files=settings.max_files_per_request, max_fields=MAX_FORM_FIELDS)
    uploads = [f for f in form.getlist("files") if isinstance(f, UploadFile)]
    if not uploads:
        raise IngestError("multipart upload needs one or more parts named 'files'")
    urls = _per_file(form.getlist("url"), "url", len(uploads))
    metadata = [_metadata(m) if m is not None else {} for m in _per_file(form.getlist("metadata"), "metadata",
                                                                         len(uploads))]
    budget = InflateBudget(settings.max_inflated_bytes)
    items: list[IngestItem] = []
    for upload, url, meta in zip(uploads, urls, metadata, strict=True):
        name = upload.filename or "upload"
        data = await _read_limited(upload, settings.max_upload_bytes)
        room = settings.max_files_per_request - len(items)  # archives count their members, across the request
        sources = await run_in_threadpool(unpack, name, data, max_bytes=settings.max_upload_bytes,
                                          max_files=max(room, 0), budget=budget)
        whole = len(sources) == 1 and sources[0].name == name
        if url and not whole:
            raise IngestError(f"{name!r} is an archive; a 'url' can only be given for a single document")
        declared = _part_type(upload) if whole else None
        for source in sources:
            if resolve_content_type(source.name, declared) == DOCX:
                await run_in_threadpool(check_docx, source.data, budget=budget, name=source.name)
            items.append(IngestItem(content=source.data, name=source.name, content_type=declared, url=url or None,
                                    metadata=meta))
    return items


def _per_file(values: list[Any], field: str, files: int) -> list[Any]:
    """A form field given once for every file, or once per file in order."""
    values = [v for v in values if isinstance(v, str)]
    if not values:
        return [None] * files
    if len(values) == files:
        return values
    if len(values) == 1 and field == "metadata":
        return values * files
    raise IngestError(f"{len(values)} '{field}' fields for {files} files: give one per file, in order"
                      + (", or one for all" if field == "metadata" else ""))


_METADATA = TypeAdapter(DocumentIn.model_fields["metadata"].annotation)  # the JSON upload's rules, once


def _metadata(text: str) -> dict[str, Any]:
    try:
        return _METADATA.validate_json(text)
    except ValidationError:
        raise IngestError("'metadata' must be a JSON object of strings, numbers, booleans and lists of strings "
                          "or integers, such as {\"product\": \"vpn\", \"tags\": [\"setup\"]}") from None


def _parse_json(body: bytes, settings: Settings) -> list[IngestItem]:
    try:
        parsed = json.loads(body)
    except UnicodeDecodeError:
        raise IngestError("the JSON body is not valid UTF-8") from None
    except RecursionError:
        raise IngestError("the JSON body is nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise IngestError(f"malformed JSON body: {exc}") from None
    try:
        documents = DocumentsIn.model_validate(parsed).documents
    except ValidationError as exc:
        raise IngestError("invalid documents: " + "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5])) from None
    return [IngestItem(content=d.content, doc_id=d.id, title=d.title, url=d.url, content_type=d.content_type,
                       metadata=d.metadata) for d in documents]


async def _read_limited(upload: UploadFile, max_bytes: int) -> bytes:
    data = await upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise DocumentTooLarge(f"{upload.filename!r} is larger than {max_bytes} bytes (SIFT_MAX_UPLOAD_BYTES)")
    return data


def _part_type(upload: UploadFile) -> str | None:
    """The part's declared type, unless it is the generic one that clients send for any file."""
    declared = (upload.content_type or "").lower()
    return None if declared.startswith(("application/octet-stream", "text/plain")) and upload.filename else declared
