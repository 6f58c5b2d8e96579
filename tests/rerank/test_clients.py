"""The rerank and retrieval APIs driven by the clients people already run, over real HTTP.

Sift serves the tiny random Qwen3 reranker (transformers engine) from uvicorn on a loopback port.
The ``cohere`` SDK (v1 and v2), LangChain's and LlamaIndex's ``CohereRerank`` and LiteLLM's
``rerank`` are used unchanged. Dify, RAGFlow and TEI clients cannot be installed, so their requests
are rebuilt exactly as their source builds them (repository, file and commit named in each test).
Every score must equal what ``/v1/rerank`` gives for the same (query, document) pairs.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from api.app import create_app
from api.client import AsyncSiftClient, SiftAPIError, SiftClient
from api.keys import Scope
from api.service import Sift
from api.settings import load_settings
from tests.conftest import SAMPLE_KB, upload_files
from tests.rerank.model_card import MAX_LENGTH

pytestmark = pytest.mark.slow

QUERY = "How do I reset my password?"
DOCUMENTS = [
    "Open the sign-in page and choose 'Forgot password'; the reset link expires after 30 minutes.",
    "Refunds for annual plans are prorated and take 5-10 business days.",
    "Two-factor authentication codes come from your authenticator app.",
    "Export all projects as a zip archive from Settings → Data export.",
]


class Served:
    """A running Sift: its URL, its service, and a key when it requires keys."""

    def __init__(self, url: str, sift: Sift, key: str | None) -> None:
        self.url, self.sift, self.key = url, sift, key

    def reference(self, query: str, documents: list[str], **extra) -> dict[int, float]:
        """``/v1/rerank``'s score of each document, by index."""
        headers = {"Authorization": f"Bearer {self.key}"} if self.key else {}
        response = httpx.post(f"{self.url}/v1/rerank", json={"query": query, "documents": documents, **extra},
                              headers=headers, timeout=60)
        assert response.status_code == 200, response.text
        return {r["index"]: r["relevance_score"] for r in response.json()["results"]}


def _serve(tmp_path, tiny_model: str, *, with_key: bool) -> Iterator[Served]:
    settings = load_settings(_env_file=None, data_dir=tmp_path, rerank_engine="transformers",
                             rerank_model=tiny_model, rerank_max_length=MAX_LENGTH, rerank_model_name="qwen3-tiny")
    service = Sift(settings)
    service.start()
    with TestClient(create_app(sift=service), base_url="http://localhost") as client:
        assert upload_files(client, "kb", sorted(SAMPLE_KB.iterdir())).status_code == 200
    app = create_app(sift=service)  # its lifespan (run by uvicorn) closes its key store at the end
    key = app.state.keys.create(name="clients", scopes={Scope.QUERY})[1] if with_key else None
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield Served(f"http://127.0.0.1:{port}", service, key)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        asyncio.run(service.close())


@pytest.fixture(scope="module")
def served(tmp_path_factory, tiny_model) -> Iterator[Served]:
    """An open Sift (no keys exist): the SDKs' keys are sent and not needed."""
    yield from _serve(tmp_path_factory.mktemp("clients-open"), tiny_model, with_key=False)


@pytest.fixture(scope="module")
def keyed(tmp_path_factory, tiny_model) -> Iterator[Served]:
    """A Sift that requires keys, with one query key."""
    yield from _serve(tmp_path_factory.mktemp("clients-keyed"), tiny_model, with_key=True)


def _by_index(results) -> dict[int, float]:
    return {r.index: r.relevance_score for r in results}


# Cohere SDK

def test_cohere_v1_client(served):
    import cohere

    client = cohere.Client(api_key="unused", base_url=served.url)
    response = client.rerank(model="qwen3-tiny", query=QUERY, documents=DOCUMENTS, top_n=3, return_documents=True)
    assert len(response.results) == 3 and response.id
    assert response.meta.api_version.version == "1" and response.meta.billed_units.search_units == 1
    reference = served.reference(QUERY, DOCUMENTS)
    assert _by_index(response.results) == {i: reference[i] for i in _by_index(response.results)}
    assert [r.relevance_score for r in response.results] == sorted(reference.values(), reverse=True)[:3]
    assert response.results[0].document.text == DOCUMENTS[response.results[0].index]


def test_cohere_v1_object_documents_with_rank_fields(served):
    import cohere

    documents = [{"title": "Password reset", "text": DOCUMENTS[0]}, {"title": "Refunds", "text": DOCUMENTS[1]}]
    response = cohere.Client(api_key="unused", base_url=served.url).rerank(
        model="qwen3-tiny", query=QUERY, documents=documents, rank_fields=["title", "text"], return_documents=True)
    ranked_texts = [f"title: {d['title']}\ntext: {d['text']}" for d in documents]
    assert _by_index(response.results) == served.reference(QUERY, ranked_texts)
    first = response.results[0]
    assert first.document.text == documents[first.index]["text"]
    plain = cohere.Client(api_key="unused", base_url=served.url).rerank(model="m", query=QUERY, documents=documents)
    assert _by_index(plain.results) == served.reference(QUERY, [d["text"] for d in documents])


def test_cohere_v2_client_and_its_async_twin(served):
    import cohere

    response = cohere.ClientV2(api_key="unused", base_url=served.url).rerank(
        model="qwen3-tiny", query=QUERY, documents=DOCUMENTS, top_n=2)
    assert len(response.results) == 2 and response.meta.api_version.version == "2"
    reference = served.reference(QUERY, DOCUMENTS)
    assert all(reference[r.index] == r.relevance_score for r in response.results)

    async def async_rerank():
        return await cohere.AsyncClientV2(api_key="unused", base_url=served.url).rerank(
            model="qwen3-tiny", query=QUERY, documents=DOCUMENTS)

    assert _by_index(asyncio.run(async_rerank()).results) == reference


def test_cohere_sdk_with_a_key(keyed):
    import cohere

    response = cohere.ClientV2(api_key=keyed.key, base_url=keyed.url).rerank(
        model="qwen3-tiny", query=QUERY, documents=DOCUMENTS)
    assert _by_index(response.results) == keyed.reference(QUERY, DOCUMENTS)
    with pytest.raises(cohere.errors.UnauthorizedError):
        cohere.ClientV2(api_key="wrong", base_url=keyed.url).rerank(model="m", query=QUERY, documents=DOCUMENTS)


def test_long_documents_are_cut_inside_never_a_500(served):
    import cohere

    long_document = "Reset your password from the sign-in page. " + "Unrelated filler text. " * 3000
    documents = [long_document, DOCUMENTS[1]]
    reference = served.reference(QUERY, documents)
    assert set(reference) == {0, 1}
    v2 = cohere.ClientV2(api_key="unused", base_url=served.url).rerank(model="m", query=QUERY, documents=documents)
    assert _by_index(v2.results) == reference
    cut = cohere.ClientV2(api_key="unused", base_url=served.url).rerank(
        model="m", query=QUERY, documents=documents, max_tokens_per_doc=40)
    assert _by_index(cut.results)[0] != reference[0] and _by_index(cut.results)[1] == reference[1]
    chunked = served.reference(QUERY, documents, max_chunks_per_doc=4)
    # The best of the first piece and three more; scored in another batch, hence equal within float noise.
    assert chunked[0] >= reference[0] - 1e-6 and chunked[1] == pytest.approx(reference[1], abs=1e-6)
    tei = httpx.post(f"{served.url}/rerank", json={"query": QUERY, "texts": documents}, timeout=60)
    assert tei.status_code == 200 and {r["index"]: r["score"] for r in tei.json()} == reference


# Frameworks

def test_langchain_cohere_rerank_compresses_documents(served):
    from langchain_cohere import CohereRerank
    from langchain_core.documents import Document

    documents = [Document(page_content=text, metadata={"source": f"doc-{i}"}) for i, text in enumerate(DOCUMENTS)]
    reranker = CohereRerank(cohere_api_key="unused", base_url=served.url, model="qwen3-tiny", top_n=3)
    compressed = reranker.compress_documents(documents, QUERY)
    reference = served.reference(QUERY, DOCUMENTS)
    assert len(compressed) == 3
    for document in compressed:
        index = DOCUMENTS.index(document.page_content)
        assert document.metadata["relevance_score"] == reference[index]
        assert document.metadata["source"] == f"doc-{index}"
    assert [d.metadata["relevance_score"] for d in compressed] == sorted(reference.values(), reverse=True)[:3]


def test_llama_index_cohere_rerank_postprocesses_nodes(served):
    from llama_index.core.schema import MetadataMode, NodeWithScore, QueryBundle, TextNode
    from llama_index.postprocessor.cohere_rerank import CohereRerank

    nodes = [NodeWithScore(node=TextNode(text=text, metadata={"n": i}), score=0.0) for i, text in enumerate(DOCUMENTS)]
    reranker = CohereRerank(api_key="unused", base_url=served.url, model="qwen3-tiny", top_n=2)
    reranked = reranker.postprocess_nodes(nodes, query_bundle=QueryBundle(QUERY))
    sent = [n.node.get_content(metadata_mode=MetadataMode.EMBED) for n in nodes]  # what LlamaIndex sends
    reference = served.reference(QUERY, sent)
    assert len(reranked) == 2
    assert [n.score for n in reranked] == sorted(reference.values(), reverse=True)[:2]
    assert all(reference[n.node.metadata["n"]] == n.score for n in reranked)


def test_litellm_rerank_routed_to_sift(served):
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no network fetch of the price list
    litellm = pytest.importorskip("litellm")

    response = litellm.rerank(model="cohere/qwen3-tiny", query=QUERY, documents=DOCUMENTS, top_n=3,
                              api_base=served.url, api_key="unused")
    reference = served.reference(QUERY, DOCUMENTS)
    assert len(response.results) == 3
    assert all(reference[r["index"]] == r["relevance_score"] for r in response.results)


# TEI shape: Dify's and RAGFlow's providers

def test_dify_tei_provider(keyed):
    """Dify's "Hugging Face TEI" rerank provider, as langgenius/dify builds it at commit
    c06e8f3a8a0e59f6c36161492d06e7aca882784a: api/core/model_runtime/model_providers/huggingface_tei/
    tei_helper.py (GET {server_url}/info, requests; POST {server_url}/rerank with {"query", "texts",
    "return_text": True}, httpx) and rerank/rerank.py (headers Content-Type + Bearer api_key; reads
    index, text, score; stops at top_n, so the list must come best first)."""
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {keyed.key}"}
    info = httpx.get(f"{keyed.url}/info", headers=headers, timeout=10)
    assert info.status_code == 200, info.text
    model_type = info.json().get("model_type", {})
    assert list(model_type.keys())[0] == "reranker"
    assert info.json().get("max_input_length", 512) == MAX_LENGTH
    response = httpx.post(f"{keyed.url}/rerank", json={"query": QUERY, "texts": DOCUMENTS, "return_text": True},
                          headers=headers)
    response.raise_for_status()
    results = response.json()
    reference = keyed.reference(QUERY, DOCUMENTS)
    assert [(r["index"], r["text"], r["score"]) for r in results] == [
        (i, DOCUMENTS[i], reference[i]) for i in sorted(reference, key=lambda i: -reference[i])]


def test_ragflow_huggingface_provider(served, keyed):
    """RAGFlow's "HuggingFace" rerank (infiniflow/ragflow rag/llm/rerank_model.py ``HuggingfaceRerank.post``
    at commit 5b404a91ce3a660d39a7db4be7b63f9553bdd335): batches of 8 texts, {"query", "texts",
    "raw_scores": False, "truncate": True}, only a Content-Type header, scores read by index."""
    texts = DOCUMENTS * 3  # two batches
    url = served.url.removeprefix("http://")  # RAGFlow prepends http:// itself
    scores = [0.0] * len(texts)
    for i in range(0, len(texts), 8):
        response = httpx.post(f"http://{url}/rerank", headers={"Content-Type": "application/json"},
                              json={"query": QUERY, "texts": texts[i:i + 8], "raw_scores": False, "truncate": True})
        for o in response.json():
            scores[o["index"] + i] = o["score"]
    reference = served.reference(QUERY, DOCUMENTS)
    # Batches of 8 pack other rows together than /v1/rerank's 4: equal within float noise.
    assert scores == pytest.approx([reference[i % len(DOCUMENTS)] for i in range(len(texts))], abs=1e-6)
    # It sends no key: behind keys it is refused, so RAGFlow should use its Cohere/VLLM provider (README).
    refused = httpx.post(f"{keyed.url}/rerank", headers={"Content-Type": "application/json"},
                         json={"query": QUERY, "texts": DOCUMENTS, "raw_scores": False, "truncate": True})
    assert refused.status_code == 401


def test_ragflow_cohere_provider_with_a_key(keyed):
    """RAGFlow's "Cohere"/"VLLM" rerank (same file and commit, ``CoHereRerank``): cohere.Client(api_key,
    base_url).rerank(model, query, documents, top_n=len(texts), return_documents=False)."""
    import cohere

    client = cohere.Client(api_key=keyed.key, base_url=keyed.url)
    res = client.rerank(model="qwen3-tiny", query=QUERY, documents=DOCUMENTS, top_n=len(DOCUMENTS),
                        return_documents=False)
    assert _by_index(res.results) == keyed.reference(QUERY, DOCUMENTS)


def test_jina_usage_and_tei_options(served):
    body = httpx.post(f"{served.url}/v1/rerank", json={"query": QUERY, "documents": DOCUMENTS}).json()
    assert body["usage"]["total_tokens"] == body["usage"]["prompt_tokens"] > 0
    assert body["meta"]["tokens"]["input_tokens"] == body["usage"]["total_tokens"]
    reference = served.reference(QUERY, DOCUMENTS)
    raw = httpx.post(f"{served.url}/rerank", json={"query": QUERY, "texts": DOCUMENTS, "raw_scores": True}).json()
    assert all(r["score"] == pytest.approx(math.log(reference[r["index"]] / (1 - reference[r["index"]])))
               for r in raw)
    assert all("text" not in r for r in raw)
    long_text = "Filler words about nothing. " * 800 + "Reset your password from the sign-in page."
    right, left = (httpx.post(f"{served.url}/rerank", json={"query": QUERY, "texts": [long_text],
                                                            "truncation_direction": direction}).json()[0]["score"]
                   for direction in ("right", "Left"))
    assert right == served.reference(QUERY, [long_text])[0] and left != right
    instructed = httpx.post(f"{served.url}/rerank", json={"query": QUERY, "texts": DOCUMENTS,
                                                          "instruction": "Find billing pages"}).json()
    assert {r["index"]: r["score"] for r in instructed} == served.reference(
        QUERY, DOCUMENTS, instruction="Find billing pages") != reference


# Dify External Knowledge API and Sift's own client, over real HTTP

def test_dify_external_knowledge_over_http(keyed):
    """As ``fetch_external_knowledge_retrieval`` sends it (see tests/api/test_dify.py for the source)."""
    params = {"retrieval_setting": {"top_k": 2, "score_threshold": 0.0}, "query": QUERY, "knowledge_id": "kb",
              "metadata_condition": None}
    response = httpx.post(f"{keyed.url}/retrieval", data=json.dumps(params),
                          headers={"Content-Type": "application/json", "Authorization": f"Bearer {keyed.key}"})
    assert response.status_code == 200, response.text
    records = response.json()["records"]
    assert len(records) == 2 and records[0]["metadata"]["reranked"] is True
    query = SiftClient(keyed.url, api_key=keyed.key).query(QUERY, collection="kb", top_k=2)
    assert [r["score"] for r in records] == [r.score for r in query.results]


def test_sift_client_sync_and_async(keyed):
    with SiftClient(keyed.url, api_key=keyed.key) as client:
        assert client.health().reranker.ready is True
        answer = client.query(QUERY, collection="kb", top_k=3)
        assert answer.reranked is True and answer.answered is True and len(answer.results) == 3
        reranked = client.rerank(QUERY, DOCUMENTS, top_n=2)
        assert _by_index(reranked.results) == {i: keyed.reference(QUERY, DOCUMENTS)[i]
                                               for i in _by_index(reranked.results)}
        with pytest.raises(SiftAPIError) as refused:
            client.query(QUERY, collection="no-such-collection")
        assert refused.value.status == 404 and refused.value.code == "collection_not_found"
    with pytest.raises(SiftAPIError) as unauthenticated:
        SiftClient(keyed.url).query(QUERY, collection="kb")
    assert unauthenticated.value.status == 401

    async def both():
        async with AsyncSiftClient(keyed.url, api_key=keyed.key) as client:
            return await client.query(QUERY, collection="kb", top_k=3), await client.rerank(QUERY, DOCUMENTS)

    answer_async, reranked_async = asyncio.run(both())
    assert [r.score for r in answer_async.results] == [r.score for r in answer.results]
    assert _by_index(reranked_async.results) == keyed.reference(QUERY, DOCUMENTS)


# README recipes: retrievers over /v1/query (the classes are the README's, verbatim)

def test_readme_langchain_retriever(keyed):
    from langchain_core.documents import Document
    from langchain_core.retrievers import BaseRetriever

    class SiftRetriever(BaseRetriever):
        client: SiftClient
        collection: str = "default"
        top_k: int = 5
        min_score: float | None = None
        model_config = {"arbitrary_types_allowed": True}

        def _get_relevant_documents(self, query: str, *, run_manager) -> list[Document]:
            answer = self.client.query(query, collection=self.collection, top_k=self.top_k, min_score=self.min_score)
            return [Document(page_content=r.text, metadata={"doc_id": r.doc_id, "title": r.title, "url": r.url,
                                                            "score": r.score}) for r in answer.results]

    retriever = SiftRetriever(client=SiftClient(keyed.url, api_key=keyed.key), collection="kb", top_k=3)
    documents = retriever.invoke(QUERY)
    answer = SiftClient(keyed.url, api_key=keyed.key).query(QUERY, collection="kb", top_k=3)
    assert [d.page_content for d in documents] == [r.text for r in answer.results]
    assert [d.metadata["score"] for d in documents] == [r.score for r in answer.results]


def test_readme_llama_index_retriever(keyed):
    from llama_index.core.retrievers import BaseRetriever
    from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

    class SiftRetriever(BaseRetriever):
        def __init__(self, client: SiftClient, collection: str = "default", top_k: int = 5) -> None:
            super().__init__()
            self.client, self.collection, self.top_k = client, collection, top_k

        def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
            answer = self.client.query(query_bundle.query_str, collection=self.collection, top_k=self.top_k)
            return [NodeWithScore(node=TextNode(id_=r.chunk_id, text=r.text, metadata={"title": r.title,
                                                                                          "url": r.url}),
                                  score=r.score) for r in answer.results]

    nodes = SiftRetriever(SiftClient(keyed.url, api_key=keyed.key), collection="kb", top_k=3).retrieve(QUERY)
    answer = SiftClient(keyed.url, api_key=keyed.key).query(QUERY, collection="kb", top_k=3)
    assert [n.node.node_id for n in nodes] == [r.chunk_id for r in answer.results]
    assert [n.score for n in nodes] == [r.score for r in answer.results]
