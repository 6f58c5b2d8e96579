"""Create and delete collections, and read a document's chunks as the index holds them.

Creating a collection needs the ``write`` scope (uploading into a new name creates it anyway);
deleting one removes every document in it, so it needs ``admin``.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from api.auth import AdminAccess, QueryAccess, WriteAccess
from api.deps import CollectionName, SiftDep
from api.errors import ERROR_RESPONSES, ErrorBody
from api.routes.documents import collection_out, document_out
from api.schemas import ChunkOut, CollectionDeleted, CollectionIn, CollectionOut, DocumentChunksOut

router = APIRouter(prefix="/v1/collections", tags=["collections"], responses=ERROR_RESPONSES)


@router.post("", response_model=CollectionOut, status_code=201,
             responses={409: {"model": ErrorBody, "description": "The collection already exists"}})
async def create_collection(body: CollectionIn, sift: SiftDep, principal: WriteAccess) -> JSONResponse:
    """A new, empty collection, optionally with its default rerank instruction."""
    principal.require_collection(body.name)
    record = await run_in_threadpool(sift.index.create_collection, body.name, body.instruction)
    return JSONResponse(collection_out(record).model_dump(), status_code=201,
                        headers={"Location": f"/v1/collections/{record.name}"})


@router.delete("/{collection}", response_model=CollectionDeleted)
async def delete_collection(collection: CollectionName, sift: SiftDep, _: AdminAccess) -> CollectionDeleted:
    """Delete the collection with every document and chunk in it."""
    documents = await run_in_threadpool(sift.index.delete_collection, collection)
    return CollectionDeleted(name=collection, documents=documents)


@router.get("/{collection}/documents/{doc_id:path}/chunks", response_model=DocumentChunksOut, tags=["documents"])
async def document_chunks(collection: CollectionName, doc_id: str, sift: SiftDep,
                          _: QueryAccess) -> DocumentChunksOut:
    """The document and the chunks of its live version, in order: what ingestion kept of it."""
    record = await run_in_threadpool(sift.index.document, collection, doc_id)
    chunks = await run_in_threadpool(sift.index.chunks, collection, doc_id)
    return DocumentChunksOut(document=document_out(record), chunks=[
        ChunkOut(id=c.chunk_id, index=c.index, heading=c.heading, text=c.text) for c in chunks])
