"""Help-centre sync sources of a collection: register, list, read, run now, remove; and their runs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from api.auth import WriteAccess
from api.deps import CollectionName, SiftDep
from api.errors import ERROR_RESPONSES
from api.schemas_helpdesk import SourceIn, SourceOut, SourcesOut, SyncRunAccepted, SyncRunOut
from api.service import Sift
from api.sync_store import Source, SourceNotFound

router = APIRouter(prefix="/v1/collections", tags=["sync"], responses=ERROR_RESPONSES)


@router.post("/{collection}/sources", response_model=SourceOut, status_code=201)
async def add_source(collection: CollectionName, body: SourceIn, sift: SiftDep, _: WriteAccess) -> SourceOut:
    """Keep the collection in sync with a help centre (its sitemaps, else a crawl); the first run starts now."""
    source = await run_in_threadpool(sift.sync.add_source, collection, body.url, include=body.include,
                                     exclude=body.exclude, interval=body.interval, max_pages=body.max_pages,
                                     run=body.run)
    return await run_in_threadpool(source_out, sift, source)


@router.get("/{collection}/sources", response_model=SourcesOut)
async def list_sources(collection: CollectionName, sift: SiftDep, _: WriteAccess) -> SourcesOut:
    """The collection's sources, each with its last run's counts and errors."""
    sources = await run_in_threadpool(sift.sync.store.sources, collection)
    return SourcesOut(sources=[await run_in_threadpool(source_out, sift, s) for s in sources])


@router.get("/{collection}/sources/{source_id}", response_model=SourceOut)
async def get_source(collection: CollectionName, source_id: str, sift: SiftDep, _: WriteAccess) -> SourceOut:
    return await run_in_threadpool(source_out, sift, sift.sync.store.source(collection, source_id))


@router.post("/{collection}/sources/{source_id}/runs", status_code=202, response_model=SyncRunAccepted)
async def run_source(collection: CollectionName, source_id: str, sift: SiftDep, _: WriteAccess) -> JSONResponse:
    """Sync the source now (queued behind any run in progress)."""
    sift.sync.store.source(collection, source_id)
    run_id = await run_in_threadpool(sift.sync.submit, source_id)
    body = SyncRunAccepted(run_id=run_id, state="queued",
                           status_url=f"/v1/collections/{collection}/sources/{source_id}/runs/{run_id}")
    return JSONResponse(body.model_dump(), status_code=202, headers={"Location": body.status_url})


@router.get("/{collection}/sources/{source_id}/runs/{run_id}", response_model=SyncRunOut)
async def get_run(collection: CollectionName, source_id: str, run_id: str, sift: SiftDep,
                  _: WriteAccess) -> SyncRunOut:
    """A sync run: state, progress, counts by outcome, the pages it changed and the ones that failed."""
    sift.sync.store.source(collection, source_id)
    run = await run_in_threadpool(sift.sync.store.run, run_id)
    if run is None or run["source_id"] != source_id:
        raise SourceNotFound(f"sync run {run_id!r} does not exist for source {source_id!r}")
    return SyncRunOut(**run)


@router.delete("/{collection}/sources/{source_id}", status_code=204)
async def remove_source(
    collection: CollectionName, source_id: str, sift: SiftDep, _: WriteAccess,
    delete_documents: Annotated[bool, Query(description="Also delete the documents it synced.")] = False,
) -> Response:
    """Stop syncing the source; its documents stay unless ``delete_documents=true``."""
    await run_in_threadpool(sift.sync.remove_source, collection, source_id, delete_documents=delete_documents)
    return Response(status_code=204)


def source_out(sift: Sift, source: Source) -> SourceOut:
    last = sift.sync.store.last_run(source.id)
    return SourceOut(id=source.id, collection=source.collection, url=source.url, include=source.include,
                     exclude=source.exclude, max_pages=source.max_pages, interval_s=source.interval_s,
                     next_run_at=source.next_run_at, created_at=source.created_at,
                     last_run=SyncRunOut(**last) if last else None)
