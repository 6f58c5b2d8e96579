"""``sift eval``: run a BEIR-layout dataset through the real pipeline and measure retrieval quality.

The corpus goes into a temporary store through the normal ingest path. The embedding cache is
shared with ``SIFT_DATA_DIR``, so a second run of the same corpus does not encode again. Every
query then runs through each search mode, and optionally through the reranker.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from api.ingestion import IngestItem
from api.service import Sift
from api.settings import Settings
from retrieval.index import SEARCH_MODES, SearchMode
from retrieval.metrics import mrr_at_k, ndcg_at_k, percentile, recall_at_k
from retrieval.points import Candidate

EVAL_COLLECTION = "eval"
CHUNKS_PER_QUERY = 100  # chunk candidates fetched to rank 50 distinct documents
INGEST_BATCH = 64


@dataclass(frozen=True, slots=True)
class Dataset:
    name: str
    corpus: list[dict]
    queries: dict[str, str]
    qrels: dict[str, set[str]]


def load_beir(path: str | Path) -> Dataset:
    """``corpus.jsonl``, ``queries.jsonl`` and ``qrels/test.tsv``; only queries with qrels are kept."""
    root = Path(path)
    for required in ("corpus.jsonl", "queries.jsonl", "qrels/test.tsv"):
        if not (root / required).is_file():
            raise FileNotFoundError(f"{root} is not a BEIR folder: {required} is missing")
    corpus = [json.loads(line) for line in _lines(root / "corpus.jsonl")]
    qrels: dict[str, set[str]] = {}
    for row in _lines(root / "qrels/test.tsv"):
        query_id, doc_id, score = row.split("\t")[:3]
        if query_id == "query-id":
            continue
        if float(score) > 0:
            qrels.setdefault(query_id, set()).add(doc_id)
    queries = {}
    for line in _lines(root / "queries.jsonl"):
        query = json.loads(line)
        if str(query["_id"]) in qrels:
            queries[str(query["_id"])] = query["text"]
    return Dataset(root.name, corpus, queries, {q: qrels[q] for q in queries})


def _lines(path: Path) -> Iterable[str]:
    with open(path, encoding="utf-8") as handle:
        yield from (line.rstrip("\n") for line in handle if line.strip())


def evaluate(
    settings: Settings, dataset: Dataset, *, modes: Sequence[SearchMode] = SEARCH_MODES, rerank: bool = False,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, dict[str, float]]:
    """Per mode (and ``MODE+rerank``): nDCG@10, Recall@50, MRR@10 and p50/p95 query latency."""
    with tempfile.TemporaryDirectory(prefix="sift-eval-") as scratch:
        eval_settings = settings.model_copy(update={
            "data_dir": Path(scratch), "embed_cache": settings.embed_cache_path,
        })
        sift = Sift(eval_settings)
        sift.start()
        try:
            ingest_corpus(sift, dataset, progress)
            results = {}
            for mode in modes:
                results[mode] = _run_queries(sift, dataset, mode, rerank=False, progress=progress)
                if rerank:
                    if not sift.reranker.ready:
                        raise RuntimeError(f"--rerank needs a reranker: {sift.reranker.error}")
                    results[f"{mode}+rerank"] = _run_queries(sift, dataset, mode, rerank=True, progress=progress)
            return results
        finally:
            asyncio.run(sift.close())


def ingest_corpus(sift: Sift, dataset: Dataset, progress: Callable[[str, int, int], None] | None = None) -> None:
    """The corpus into the ``eval`` collection through the pipelined ingest path, in batches."""
    total, done = len(dataset.corpus), 0
    batches = (
        [IngestItem(content=doc.get("text") or doc.get("title") or " ", doc_id=str(doc["_id"]),
                    title=doc.get("title") or None, content_type="text/plain")
         for doc in dataset.corpus[start:start + INGEST_BATCH]]
        for start in range(0, total, INGEST_BATCH)
    )
    for results in sift.pipeline.ingest_stream(EVAL_COLLECTION, batches):
        done += len(results)
        if progress:
            progress("ingest", done, total)


def _run_queries(sift: Sift, dataset: Dataset, mode: SearchMode, *, rerank: bool, progress
                 ) -> dict[str, float]:
    ndcg, recall, mrr, latencies = [], [], [], []
    label = f"{mode}+rerank" if rerank else mode
    for done, (query_id, text) in enumerate(dataset.queries.items(), start=1):
        started = time.perf_counter()
        if rerank:
            answer = asyncio.run(sift.answer(text, collection=EVAL_COLLECTION, top_k=CHUNKS_PER_QUERY,
                                             candidates=CHUNKS_PER_QUERY, mode=mode))
            chunks = [r.candidate for r in answer.results]
        else:
            chunks, _ = sift.retrieve(text, collection=EVAL_COLLECTION, candidates=CHUNKS_PER_QUERY, mode=mode)
        latencies.append((time.perf_counter() - started) * 1000)
        ranked = ranked_documents(chunks)
        relevant = dataset.qrels[query_id]
        ndcg.append(ndcg_at_k(ranked, relevant, 10))
        recall.append(recall_at_k(ranked, relevant, 50))
        mrr.append(mrr_at_k(ranked, relevant, 10))
        if progress:
            progress(label, done, len(dataset.queries))
    count = len(ndcg) or 1
    return {
        "ndcg@10": round(sum(ndcg) / count, 4),
        "recall@50": round(sum(recall) / count, 4),
        "mrr@10": round(sum(mrr) / count, 4),
        "p50_ms": round(percentile(latencies, 50), 2),
        "p95_ms": round(percentile(latencies, 95), 2),
        "queries": len(ndcg),
    }


def ranked_documents(chunks: Iterable[Candidate]) -> list[str]:
    """Document ids in the order of their best chunk (what the metrics rank)."""
    return list(dict.fromkeys(chunk.doc_id for chunk in chunks))


def format_table(dataset: str, results: dict[str, dict[str, float]]) -> str:
    """A Markdown table of the results."""
    lines = [f"| {dataset} | nDCG@10 | Recall@50 | MRR@10 | p50 ms | p95 ms |", "|---|---|---|---|---|---|"]
    for mode, m in results.items():
        lines.append(f"| {mode} | {m['ndcg@10']:.3f} | {m['recall@50']:.3f} | {m['mrr@10']:.3f} "
                     f"| {m['p50_ms']:.1f} | {m['p95_ms']:.1f} |")
    return "\n".join(lines)
