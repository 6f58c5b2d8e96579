"""A typed Python client for Sift's HTTP API, sync (``SiftClient``) and async (``AsyncSiftClient``).

Requests and answers are the server's own schemas (``api/schemas.py``, ``api/protocols/``), so the
client cannot drift from the server; the ``sift`` CLI talks to a running server through it.

    with SiftClient("http://127.0.0.1:8000", api_key="…") as sift:
        answer = sift.query("How do I reset my password?", collection="kb", min_score=0.5)
        if answer.answered:
            print(answer.context)
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import httpx
from pydantic import BaseModel

from api.protocols.cohere import RerankV1Out
from api.schemas import (
    CollectionDeleted,
    CollectionOut,
    CollectionsOut,
    DocumentsWritten,
    HealthOut,
    JobAccepted,
    JobOut,
    QueryOut,
)
from api.schemas_helpdesk import SourceOut, SourcesOut, SyncRunAccepted, SyncRunOut

Model = TypeVar("Model", bound=BaseModel)
UploadFile = tuple[str, bytes, str | None]
"""(file name, content, content type or None)."""
DEFAULT_URL = "http://127.0.0.1:8000"


class SiftAPIError(Exception):
    """An error answer from Sift: the HTTP status, Sift's error code and message, and Retry-After if sent."""

    def __init__(self, status: int, code: str, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.retry_after_s = retry_after_s

    @classmethod
    def from_response(cls, response: httpx.Response) -> SiftAPIError:
        try:
            error = response.json()["error"]
            code, message = error["code"], error["message"]
        except (ValueError, KeyError, TypeError):
            code, message = "http_error", response.text
        retry = response.headers.get("retry-after")
        return cls(response.status_code, code, message, float(retry) if retry and retry.isdigit() else None)


@dataclass(frozen=True, slots=True)
class _Call:
    """One request and how to read its answer (shared by the sync and async clients)."""

    method: str
    path: str
    parse: Any  # (httpx.Response) -> result
    kwargs: dict[str, Any] = field(default_factory=dict)


def _model(model: type[Model]):
    def parse(response: httpx.Response) -> Model:
        return model.model_validate(response.json())
    return parse


def _upload_answer(response: httpx.Response) -> DocumentsWritten | JobAccepted:
    return (JobAccepted if response.status_code == 202 else DocumentsWritten).model_validate(response.json())


def _body(**fields: Any) -> dict[str, Any]:
    """A JSON body without the fields left at None (the server's defaults apply)."""
    return {key: value for key, value in fields.items() if value is not None}


class _Calls:
    """The requests of Sift's API, independent of how they are sent."""

    @staticmethod
    def health() -> _Call:
        return _Call("GET", "/health", _model(HealthOut))

    @staticmethod
    def query(question: str, *, collection: str, top_k: int | None, min_score: float | None,
              candidates: int | None, mode: str | None, filters: Mapping[str, Any] | None,
              instruction: str | None) -> _Call:
        body = _body(question=question, collection=collection, top_k=top_k, min_score=min_score,
                     candidates=candidates, mode=mode, filters=dict(filters) if filters else None,
                     instruction=instruction)
        return _Call("POST", "/v1/query", _model(QueryOut), {"json": body})

    @staticmethod
    def rerank(query: str, documents: Sequence[str], *, top_n: int | None, instruction: str | None,
               return_documents: bool) -> _Call:
        body = _body(query=query, documents=list(documents), top_n=top_n, instruction=instruction,
                     return_documents=return_documents or None)
        return _Call("POST", "/v1/rerank", _model(RerankV1Out), {"json": body})

    @staticmethod
    def upload(collection: str, files: Sequence[UploadFile], *, background: bool,
               urls: Sequence[str | None] | None = None, metadata: Mapping[str, Any] | None = None) -> _Call:
        parts = [("files", (name, data, content_type or "application/octet-stream"))
                 for name, data, content_type in files]
        params = {"async": "true"} if background else {}
        fields: dict[str, Any] = {}
        if urls is not None:
            fields["url"] = [url or "" for url in urls]
        if metadata:
            fields["metadata"] = json.dumps(dict(metadata), ensure_ascii=False)
        return _Call("POST", f"/v1/collections/{collection}/documents", _upload_answer,
                     {"files": parts, "params": params, "data": fields})

    @staticmethod
    def job(job_id: str) -> _Call:
        return _Call("GET", f"/v1/jobs/{job_id}", _model(JobOut))

    @staticmethod
    def collections() -> _Call:
        return _Call("GET", "/v1/collections", _model(CollectionsOut))

    @staticmethod
    def create_collection(name: str, instruction: str | None) -> _Call:
        return _Call("POST", "/v1/collections", _model(CollectionOut),
                     {"json": _body(name=name, instruction=instruction)})

    @staticmethod
    def delete_collection(name: str) -> _Call:
        return _Call("DELETE", f"/v1/collections/{name}", _model(CollectionDeleted))

    @staticmethod
    def add_source(collection: str, url: str, *, include: Sequence[str] | None, exclude: Sequence[str] | None,
                   interval: str | None, max_pages: int | None, run: bool) -> _Call:
        body = _body(url=url, include=list(include or []), exclude=list(exclude or []), interval=interval,
                     max_pages=max_pages, run=run)
        return _Call("POST", f"/v1/collections/{collection}/sources", _model(SourceOut), {"json": body})

    @staticmethod
    def sources(collection: str) -> _Call:
        return _Call("GET", f"/v1/collections/{collection}/sources", _model(SourcesOut))

    @staticmethod
    def run_source(collection: str, source_id: str) -> _Call:
        return _Call("POST", f"/v1/collections/{collection}/sources/{source_id}/runs", _model(SyncRunAccepted))

    @staticmethod
    def sync_run(collection: str, source_id: str, run_id: str) -> _Call:
        return _Call("GET", f"/v1/collections/{collection}/sources/{source_id}/runs/{run_id}", _model(SyncRunOut))

    @staticmethod
    def remove_source(collection: str, source_id: str, *, delete_documents: bool) -> _Call:
        return _Call("DELETE", f"/v1/collections/{collection}/sources/{source_id}", lambda _: None,
                     {"params": {"delete_documents": str(delete_documents).lower()}})


def _headers(api_key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"} if api_key else {}


def _answer(call: _Call, response: httpx.Response):
    if response.status_code >= 400:
        raise SiftAPIError.from_response(response)
    return call.parse(response)


class SiftClient:
    """Sift over HTTP, blocking. ``api_key`` is sent as ``Authorization: Bearer``."""

    def __init__(self, base_url: str = DEFAULT_URL, *, api_key: str | None = None, timeout: float = 120.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self._http = httpx.Client(base_url=base_url, headers=_headers(api_key), timeout=timeout,
                                  transport=transport)

    def _send(self, call: _Call):
        return _answer(call, self._http.request(call.method, call.path, **call.kwargs))

    def health(self) -> HealthOut:
        """Readiness of store, embedder and reranker."""
        return self._send(_Calls.health())

    def query(self, question: str, *, collection: str = "default", top_k: int | None = None,
              min_score: float | None = None, candidates: int | None = None,
              mode: Literal["dense", "lexical", "hybrid"] | None = None,
              filters: Mapping[str, Any] | None = None, instruction: str | None = None) -> QueryOut:
        """The cited answer context; results scored below ``min_score`` are left out (``answered`` false if all)."""
        return self._send(_Calls.query(question, collection=collection, top_k=top_k, min_score=min_score,
                                       candidates=candidates, mode=mode, filters=filters, instruction=instruction))

    def rerank(self, query: str, documents: Sequence[str], *, top_n: int | None = None,
               instruction: str | None = None, return_documents: bool = False) -> RerankV1Out:
        """Documents ordered by the reranker's P(yes)."""
        return self._send(_Calls.rerank(query, documents, top_n=top_n, instruction=instruction,
                                        return_documents=return_documents))

    def upload(self, collection: str, files: Sequence[UploadFile], *, background: bool = False,
               urls: Sequence[str | None] | None = None, metadata: Mapping[str, Any] | None = None
               ) -> DocumentsWritten | JobAccepted:
        """Upload files; ``background`` queues a job (see ``job``) instead of waiting for the ingest.
        ``urls`` gives each file's public URL, in order; ``metadata`` goes with every file."""
        return self._send(_Calls.upload(collection, files, background=background, urls=urls, metadata=metadata))

    def job(self, job_id: str) -> JobOut:
        """A background ingestion job's state and progress."""
        return self._send(_Calls.job(job_id))

    def collections(self) -> CollectionsOut:
        """Every collection the key may use, with its document count and rerank instruction."""
        return self._send(_Calls.collections())

    def create_collection(self, name: str, *, instruction: str | None = None) -> CollectionOut:
        """An empty collection (``SiftAPIError`` 409 if it exists)."""
        return self._send(_Calls.create_collection(name, instruction))

    def delete_collection(self, name: str) -> CollectionDeleted:
        """Delete the collection with every document in it (admin)."""
        return self._send(_Calls.delete_collection(name))

    def add_source(self, collection: str, url: str, *, include: Sequence[str] | None = None,
                   exclude: Sequence[str] | None = None, interval: str | None = None,
                   max_pages: int | None = None, run: bool = True) -> SourceOut:
        """Keep the collection in sync with a help centre; ``run`` starts a first sync at once."""
        return self._send(_Calls.add_source(collection, url, include=include, exclude=exclude, interval=interval,
                                            max_pages=max_pages, run=run))

    def sources(self, collection: str) -> SourcesOut:
        """The collection's help-centre sources, each with its last run."""
        return self._send(_Calls.sources(collection))

    def run_source(self, collection: str, source_id: str) -> SyncRunAccepted:
        """Sync a source now; follow the run with ``sync_run``."""
        return self._send(_Calls.run_source(collection, source_id))

    def sync_run(self, collection: str, source_id: str, run_id: str) -> SyncRunOut:
        """A sync run's state, progress, counts, changes and errors."""
        return self._send(_Calls.sync_run(collection, source_id, run_id))

    def remove_source(self, collection: str, source_id: str, *, delete_documents: bool = False) -> None:
        """Stop syncing a source; its documents stay unless ``delete_documents``."""
        self._send(_Calls.remove_source(collection, source_id, delete_documents=delete_documents))

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SiftClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class AsyncSiftClient:
    """Sift over HTTP for asyncio; the same methods as ``SiftClient``, awaited."""

    def __init__(self, base_url: str = DEFAULT_URL, *, api_key: str | None = None, timeout: float = 120.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._http = httpx.AsyncClient(base_url=base_url, headers=_headers(api_key), timeout=timeout,
                                       transport=transport)

    async def _send(self, call: _Call):
        return _answer(call, await self._http.request(call.method, call.path, **call.kwargs))

    async def health(self) -> HealthOut:
        """Readiness of store, embedder and reranker."""
        return await self._send(_Calls.health())

    async def query(self, question: str, *, collection: str = "default", top_k: int | None = None,
                    min_score: float | None = None, candidates: int | None = None,
                    mode: Literal["dense", "lexical", "hybrid"] | None = None,
                    filters: Mapping[str, Any] | None = None, instruction: str | None = None) -> QueryOut:
        """The cited answer context; results scored below ``min_score`` are left out (``answered`` false if all)."""
        return await self._send(_Calls.query(question, collection=collection, top_k=top_k, min_score=min_score,
                                             candidates=candidates, mode=mode, filters=filters,
                                             instruction=instruction))

    async def rerank(self, query: str, documents: Sequence[str], *, top_n: int | None = None,
                     instruction: str | None = None, return_documents: bool = False) -> RerankV1Out:
        """Documents ordered by the reranker's P(yes)."""
        return await self._send(_Calls.rerank(query, documents, top_n=top_n, instruction=instruction,
                                              return_documents=return_documents))

    async def upload(self, collection: str, files: Sequence[UploadFile], *, background: bool = False,
                     urls: Sequence[str | None] | None = None, metadata: Mapping[str, Any] | None = None
                     ) -> DocumentsWritten | JobAccepted:
        """Upload files; ``background`` queues a job (see ``job``) instead of waiting for the ingest.
        ``urls`` gives each file's public URL, in order; ``metadata`` goes with every file."""
        return await self._send(_Calls.upload(collection, files, background=background, urls=urls,
                                              metadata=metadata))

    async def job(self, job_id: str) -> JobOut:
        """A background ingestion job's state and progress."""
        return await self._send(_Calls.job(job_id))

    async def collections(self) -> CollectionsOut:
        """Every collection the key may use, with its document count and rerank instruction."""
        return await self._send(_Calls.collections())

    async def create_collection(self, name: str, *, instruction: str | None = None) -> CollectionOut:
        """An empty collection (``SiftAPIError`` 409 if it exists)."""
        return await self._send(_Calls.create_collection(name, instruction))

    async def delete_collection(self, name: str) -> CollectionDeleted:
        """Delete the collection with every document in it (admin)."""
        return await self._send(_Calls.delete_collection(name))

    async def add_source(self, collection: str, url: str, *, include: Sequence[str] | None = None,
                         exclude: Sequence[str] | None = None, interval: str | None = None,
                         max_pages: int | None = None, run: bool = True) -> SourceOut:
        """Keep the collection in sync with a help centre; ``run`` starts a first sync at once."""
        return await self._send(_Calls.add_source(collection, url, include=include, exclude=exclude,
                                                  interval=interval, max_pages=max_pages, run=run))

    async def sources(self, collection: str) -> SourcesOut:
        """The collection's help-centre sources, each with its last run."""
        return await self._send(_Calls.sources(collection))

    async def run_source(self, collection: str, source_id: str) -> SyncRunAccepted:
        """Sync a source now; follow the run with ``sync_run``."""
        return await self._send(_Calls.run_source(collection, source_id))

    async def sync_run(self, collection: str, source_id: str, run_id: str) -> SyncRunOut:
        """A sync run's state, progress, counts, changes and errors."""
        return await self._send(_Calls.sync_run(collection, source_id, run_id))

    async def remove_source(self, collection: str, source_id: str, *,
                            delete_documents: bool = False) -> None:
        """Stop syncing a source; its documents stay unless ``delete_documents``."""
        await self._send(_Calls.remove_source(collection, source_id, delete_documents=delete_documents))

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncSiftClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()
