"""Upload, list, read and delete documents; list collections and set their rerank instruction."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.datastructures import UploadFile as StarletteUploadFile

from api.deps import CollectionName, SiftDep
from api.errors import ERROR_RESPONSES
from api.ingestion import IngestItem
from api.schemas import (
    CollectionOut,
    CollectionSettingsIn,
    CollectionsOut,
    DocumentOut,
    DocumentsIn,
    DocumentsOut,
    DocumentsWritten,
    DocumentWritten,
    JobAccepted,
    JobOut,
)
from ingest.errors import DocumentTooLarge, IngestError
from ingest.sources import unpack
from retrieval.catalog import DocumentRecord

router = APIRouter(prefix="/v1/collections", tags=["documents"], responses=ERROR_RESPONSES)
jobs_router = APIRouter(prefix="/v1/jobs", tags=["jobs"], responses=ERROR_RESPONSES)

UPLOAD_BODY = {
    "requestBody": {
        "content": {
            "multipart/form-data": {
                "schema": {"type": "object", "properties": {"files": {"type": "array", "items": {
                    "type": "string", "format": "binary"}}}, "required": ["files"]}
            },
            "application/json": {"schema": DocumentsIn.model_json_schema(ref_template="#/components/schemas/{model}")},
        },
        "required": True,
    }
}


@router.post(
    "/{collection}/documents", response_model=DocumentsWritten, openapi_extra=UPLOAD_BODY,
    responses={202: {"model": JobAccepted, "description": "Accepted as a background job"}},
)
async def upload_documents(
    collection: CollectionName, request: Request, sift: SiftDep,
    run_async: Annotated[bool, Query(alias="async", description="Always run as a background job.")] = False,
) -> DocumentsWritten | JSONResponse:
    """Add or replace documents: multipart ``files`` or JSON ``{"documents": [...]}``.

    Small uploads are written before the response (200); large ones, or ``?async=true``, become a
    job (202) whose progress is at ``/v1/jobs/{id}``.
    """
    settings = sift.settings
    items = await _read_upload(request, settings.max_upload_bytes, settings.max_files_per_request)
    size = sum(len(item.content) for item in items)
    if run_async or len(items) > settings.async_files or size > settings.async_bytes:
        job_id = await run_in_threadpool(sift.submit_job, collection, items)
        body = JobAccepted(job_id=job_id, state="queued", status_url=f"/v1/jobs/{job_id}")
        return JSONResponse(body.model_dump(), status_code=202, headers={"Location": body.status_url})
    results = await run_in_threadpool(sift.ingest, collection, items)
    return DocumentsWritten(documents=[
        DocumentWritten(id=r.doc_id, title=r.title, chunks=r.chunks, status=r.status) for r in results
    ])


async def _read_upload(request: Request, max_bytes: int, max_files: int) -> list[IngestItem]:
    """The upload's documents, refusing oversize bodies before reading them."""
    declared = int(request.headers.get("content-length") or 0)
    if declared > max_bytes * max_files:
        raise DocumentTooLarge(f"request body is {declared} bytes; the limit is {max_bytes * max_files}")
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == "multipart/form-data":
        form = await request.form(max_files=max_files, max_part_size=max_bytes)
        uploads = [f for f in form.getlist("files") if isinstance(f, StarletteUploadFile)]
        if not uploads:
            raise IngestError("multipart upload needs one or more parts named 'files'")
        items = []
        for upload in uploads:
            data = await _read_limited(upload, max_bytes)
            sources = unpack(upload.filename or "upload", data, max_bytes=max_bytes, max_files=max_files)
            declared = _part_type(upload) if len(sources) == 1 and sources[0].name == upload.filename else None
            items.extend(IngestItem(content=s.data, name=s.name, content_type=declared) for s in sources)
        if len(items) > max_files:
            raise DocumentTooLarge(f"{len(items)} documents in one request; the limit is {max_files} "
                                   "(SIFT_MAX_FILES_PER_REQUEST)")
        return items
    if media == "application/json":
        try:
            body = DocumentsIn.model_validate(json.loads(await request.body()))
        except json.JSONDecodeError as exc:
            raise IngestError(f"malformed JSON body: {exc}") from None
        except ValidationError as exc:
            raise IngestError("invalid documents: " + "; ".join(
                f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())) from None
        if len(body.documents) > max_files:
            raise DocumentTooLarge(f"{len(body.documents)} documents in one request; the limit is {max_files} "
                              "(SIFT_MAX_FILES_PER_REQUEST)")
        return [IngestItem(content=d.content, doc_id=d.id, title=d.title, url=d.url, content_type=d.content_type,
                           metadata=d.metadata) for d in body.documents]
    raise IngestError(f"unsupported request content type {media or 'none'!r}; "
                      "send multipart/form-data with 'files' or application/json with 'documents'")


async def _read_limited(upload: UploadFile, max_bytes: int) -> bytes:
    data = await upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise DocumentTooLarge(f"{upload.filename!r} is larger than {max_bytes} bytes (SIFT_MAX_UPLOAD_BYTES)")
    return data


def _part_type(upload: UploadFile) -> str | None:
    """The part's declared type, unless it is the generic one that clients send for any file."""
    declared = (upload.content_type or "").lower()
    return None if declared.startswith(("application/octet-stream", "text/plain")) and upload.filename else declared


@router.get("/{collection}/documents", response_model=DocumentsOut)
async def list_documents(collection: CollectionName, sift: SiftDep) -> DocumentsOut:
    """Every document of the collection, with its live version's hash and chunk count."""
    return DocumentsOut(documents=[_document_out(r) for r in sift.index.documents(collection)])


@router.get("/{collection}/documents/{doc_id:path}", response_model=DocumentOut)
async def get_document(collection: CollectionName, doc_id: str, sift: SiftDep) -> DocumentOut:
    return _document_out(sift.index.document(collection, doc_id))


@router.delete("/{collection}/documents/{doc_id:path}", status_code=204)
async def delete_document(collection: CollectionName, doc_id: str, sift: SiftDep) -> Response:
    """Remove the document and every one of its chunks."""
    await run_in_threadpool(sift.index.delete_document, collection, doc_id)
    return Response(status_code=204)


@router.get("", response_model=CollectionsOut, tags=["collections"])
async def list_collections(sift: SiftDep) -> CollectionsOut:
    return CollectionsOut(collections=[
        CollectionOut(name=c.name, documents=c.documents, instruction=c.instruction, created_at=c.created_at)
        for c in sift.index.collections()
    ])


@router.patch("/{collection}", response_model=CollectionOut, tags=["collections"])
async def update_collection(collection: CollectionName, body: CollectionSettingsIn, sift: SiftDep) -> CollectionOut:
    """Set the collection's default rerank instruction (used when a query gives none)."""
    sift.index.require_collection(collection)
    sift.index.catalog.set_instruction(collection, body.instruction)
    c = sift.index.require_collection(collection)
    return CollectionOut(name=c.name, documents=c.documents, instruction=c.instruction, created_at=c.created_at)


def _document_out(r: DocumentRecord) -> DocumentOut:
    return DocumentOut(id=r.doc_id, title=r.title, url=r.url, source=r.source, content_type=r.content_type,
                       chunks=r.chunks, content_hash=r.content_hash, updated_at=r.updated_at,
                       language=r.language, metadata=r.metadata)


@jobs_router.get("/{job_id}", response_model=JobOut)
async def get_job(job_id: str, sift: SiftDep) -> JobOut:
    """A background ingestion job: state, files done/failed/total, chunks written, per-file errors."""
    return JobOut(**sift.job(job_id))
