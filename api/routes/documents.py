"""Upload, list, read and delete documents; list collections and set their rerank instruction."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from starlette.convertors import Convertor, register_url_convertor

from api.auth import AdminAccess, QueryAccess, WriteAccess
from api.deps import CollectionName, SiftDep
from api.errors import ERROR_RESPONSES
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
from api.uploads import read_upload
from retrieval.catalog import CollectionRecord, DocumentRecord


class DocumentIdConvertor(Convertor[str]):
    """``{doc_id:doc_id}``: a document id in a URL, slashes included, but never one ending in ``/chunks``.

    ``.../documents/{doc_id}/chunks`` is the chunks route (``api.routes.collections``); without this, a
    DELETE there would delete a document named ``{doc_id}/chunks`` and a 405 there would offer DELETE.
    Uploads refuse such ids (``api.schemas.DOC_ID_PATTERN``)."""

    regex = r".+(?<!/chunks)"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("doc_id", DocumentIdConvertor())

router = APIRouter(prefix="/v1/collections", tags=["documents"], responses=ERROR_RESPONSES)
jobs_router = APIRouter(prefix="/v1/jobs", tags=["jobs"], responses=ERROR_RESPONSES)

_DOCUMENTS_IN = DocumentsIn.model_json_schema(ref_template="#/components/schemas/{model}")
UPLOAD_SCHEMAS = {"DocumentsIn": {k: v for k, v in _DOCUMENTS_IN.items() if k != "$defs"}, **_DOCUMENTS_IN["$defs"]}
"""Schemas the upload body refers to; ``api.app`` adds them to the OpenAPI components."""
UPLOAD_BODY = {
    "requestBody": {
        "content": {
            "multipart/form-data": {
                "schema": {"type": "object", "required": ["files"], "properties": {
                    "files": {"type": "array", "items": {"type": "string", "format": "binary"}, "minItems": 1},
                    "url": {"type": "array", "items": {"type": "string"},
                            "description": "Public URL of each file, in order (not for archives)."},
                    "metadata": {"type": "array", "items": {"type": "string"},
                                 "description": "A JSON object per file, in order, or one for all files."},
                }},
            },
            "application/json": {"schema": {"$ref": "#/components/schemas/DocumentsIn"}},
        },
        "required": True,
    }
}


@router.post(
    "/{collection}/documents", response_model=DocumentsWritten, openapi_extra=UPLOAD_BODY,
    responses={202: {"model": JobAccepted, "description": "Accepted as a background job"}},
)
async def upload_documents(
    collection: CollectionName, request: Request, sift: SiftDep, principal: WriteAccess,
    run_async: Annotated[bool, Query(alias="async", description="Always run as a background job.")] = False,
) -> DocumentsWritten | JSONResponse:
    """Add or replace documents: multipart ``files`` or JSON ``{"documents": [...]}``.

    Small uploads are written before the response (200); large ones, or ``?async=true``, become a
    job (202) whose progress is at ``/v1/jobs/{id}``.
    """
    settings = sift.settings
    with request.app.state.rate_limits.upload_slot(principal):
        items = await read_upload(request, settings)
        size = sum(len(item.content) for item in items)
        if run_async or len(items) > settings.async_files or size > settings.async_bytes:
            job_id = await run_in_threadpool(sift.submit_job, collection, items)
            body = JobAccepted(job_id=job_id, state="queued", status_url=f"/v1/jobs/{job_id}")
            return JSONResponse(body.model_dump(), status_code=202, headers={"Location": body.status_url})
        results = await sift.ingest_in_background_thread(collection, items)
    return DocumentsWritten(documents=[
        DocumentWritten(id=r.doc_id, title=r.title, chunks=r.chunks, status=r.status,
                        warnings=list(r.warnings)) for r in results
    ])


@router.get("/{collection}/documents", response_model=DocumentsOut)
async def list_documents(
    collection: CollectionName, sift: SiftDep, _: QueryAccess,
    limit: Annotated[int | None, Query(ge=1, le=1000, description="Page size; default: every document.")] = None,
    offset: Annotated[int, Query(ge=0, description="Documents to skip (by id order).")] = 0,
    q: Annotated[str | None, Query(max_length=200, description="Only titles or ids containing this.")] = None,
) -> DocumentsOut:
    """The collection's documents by id, with their live version's hash and chunk count; ``total`` counts all
    that match, so ``limit``/``offset`` page through them."""
    records = await run_in_threadpool(sift.index.documents, collection, limit=limit, offset=offset, search=q)
    total = await run_in_threadpool(sift.index.count_documents, collection, search=q)
    return DocumentsOut(documents=[document_out(r) for r in records], total=total, offset=offset, limit=limit)


@router.get("/{collection}/documents/{doc_id:doc_id}", response_model=DocumentOut)
async def get_document(collection: CollectionName, doc_id: str, sift: SiftDep, _: QueryAccess) -> DocumentOut:
    return document_out(sift.index.document(collection, doc_id))


@router.delete("/{collection}/documents/{doc_id:doc_id}", status_code=204)
async def delete_document(collection: CollectionName, doc_id: str, sift: SiftDep, _: WriteAccess) -> Response:
    """Remove the document and every one of its chunks."""
    await run_in_threadpool(sift.index.delete_document, collection, doc_id)
    return Response(status_code=204)


@router.get("", response_model=CollectionsOut, tags=["collections"])
async def list_collections(sift: SiftDep, principal: QueryAccess) -> CollectionsOut:
    """The collections this key may use."""
    return CollectionsOut(collections=[
        collection_out(c) for c in await run_in_threadpool(sift.index.collections) if principal.may_use(c.name)
    ])


@router.patch("/{collection}", response_model=CollectionOut, tags=["collections"])
async def update_collection(collection: CollectionName, body: CollectionSettingsIn, sift: SiftDep,
                            _: AdminAccess) -> CollectionOut:
    """Set the collection's default rerank instruction (used when a query gives none)."""
    sift.index.require_collection(collection)
    sift.index.catalog.set_instruction(collection, body.instruction)
    return collection_out(sift.index.require_collection(collection))


def collection_out(c: CollectionRecord) -> CollectionOut:
    return CollectionOut(name=c.name, documents=c.documents, instruction=c.instruction, created_at=c.created_at)


def document_out(r: DocumentRecord) -> DocumentOut:
    return DocumentOut(id=r.doc_id, title=r.title, url=r.url, source=r.source, content_type=r.content_type,
                       chunks=r.chunks, content_hash=r.content_hash, updated_at=r.updated_at,
                       language=r.language, metadata=r.metadata)


@jobs_router.get("/{job_id}", response_model=JobOut)
async def get_job(job_id: str, sift: SiftDep, principal: WriteAccess) -> JobOut:
    """A background ingestion job: state, files done/failed/total, chunks written, per-file errors."""
    job = await run_in_threadpool(sift.job, job_id)
    principal.require_collection(job["collection"])
    return JobOut(**job)
