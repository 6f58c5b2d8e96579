"""``api.client``: the typed client against the real app, in process (the live-server test is in tests/rerank)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from api.app import create_app
from api.client import AsyncSiftClient, SiftAPIError
from api.schemas import DocumentsWritten, JobAccepted
from tests.conftest import SAMPLE_KB


def _run(sift, work):
    async def go():
        transport = httpx.ASGITransport(app=create_app(sift=sift))
        async with AsyncSiftClient("http://localhost", transport=transport) as client:
            return await work(client)
    return asyncio.run(go())


def test_upload_query_and_jobs(sift, collection):
    files = [(p.name, p.read_bytes(), None) for p in sorted(SAMPLE_KB.iterdir())]

    async def work(client: AsyncSiftClient):
        written = await client.upload(collection, files[:2])
        accepted = await client.upload(collection, files[2:], background=True)
        for _ in range(600):
            job = await client.job(accepted.job_id)
            if job.state in ("done", "failed"):
                break
            await asyncio.sleep(0.1)
        answer = await client.query("I forgot my password", collection=collection, top_k=2, min_score=0.0)
        return written, accepted, job, answer

    written, accepted, job, answer = _run(sift, work)
    assert isinstance(written, DocumentsWritten) and len(written.documents) == 2
    assert isinstance(accepted, JobAccepted) and job.state == "done" and job.files.done == len(files) - 2
    assert answer.answered and answer.results[0].doc_id == "reset-password.html" and len(answer.results) == 2


def test_errors_carry_status_code_and_retry_after(sift):
    async def work(client: AsyncSiftClient):
        errors = []
        for call in (client.query("q", collection="no-such-collection"), client.rerank("q", ["a"]),
                     client.query("q", top_k=1000)):
            with pytest.raises(SiftAPIError) as caught:
                await call
            errors.append(caught.value)
        return errors

    missing, no_reranker, invalid = _run(sift, work)
    assert (missing.status, missing.code) == (404, "collection_not_found")
    assert (no_reranker.status, no_reranker.code, no_reranker.retry_after_s) == (501, "reranker_not_configured", None)
    assert invalid.status == 422 and "top_k" in invalid.message


def test_collections_create_list_delete(sift, collection):
    async def work(client: AsyncSiftClient):
        created = await client.create_collection(collection, instruction="Find refund rules")
        with pytest.raises(SiftAPIError) as exists:
            await client.create_collection(collection)
        listed = await client.collections()
        deleted = await client.delete_collection(collection)
        return created, exists.value, listed, deleted, await client.collections()

    created, exists, listed, deleted, after = _run(sift, work)
    assert (created.name, created.instruction, created.documents) == (collection, "Find refund rules", 0)
    assert exists.status == 409
    assert collection in {c.name for c in listed.collections}
    assert (deleted.name, deleted.documents) == (collection, 0)
    assert collection not in {c.name for c in after.collections}


def test_a_source_added_listed_run_and_removed(sift, collection):
    async def work(client: AsyncSiftClient):
        # A loopback address nobody serves: the run fails, which is all this test needs to follow it.
        source = await client.add_source(collection, "http://127.0.0.1:9/hc/", include=["/hc/*"], run=False)
        listed = await client.sources(collection)
        accepted = await client.run_source(collection, source.id)
        for _ in range(300):
            run = await client.sync_run(collection, source.id, accepted.run_id)
            if run.state in ("done", "failed"):
                break
            await asyncio.sleep(0.1)
        await client.remove_source(collection, source.id)
        with pytest.raises(SiftAPIError) as gone:
            await client.run_source(collection, source.id)
        return source, listed, run, gone.value

    source, listed, run, gone = _run(sift, work)
    assert source.url == "http://127.0.0.1:9/hc/" and source.include == ["/hc/*"] and source.last_run is None
    assert [s.id for s in listed.sources] == [source.id]
    assert run.state in ("done", "failed") and run.source_id == source.id
    assert gone.status == 404
