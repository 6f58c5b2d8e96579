"""Study of dense + lexical fusion rules on BEIR-layout sets; prints a markdown table.

    python bench/fusion_study.py embed          # once: cache MiniLM vectors (≈ 12 min on 2 cores)
    python bench/fusion_study.py [--depth N]    # the table: method × set, nDCG@10 / R@50 / MRR@10
    python bench/fusion_study.py sensitivity    # the default rule with one parameter moved at a time
    python bench/fusion_study.py timing         # lexical encoding time per 240-token chunk

Dense top-k is exact numpy cosine; lexical top-k is exact BM25 over ``retrieval.lexical``'s sparse
vectors with Qdrant's IDF modifier (idf = ln(1 + (N − n + 0.5)/(n + 0.5))), i.e. what Qdrant computes.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from retrieval import fusion  # noqa: E402

DATA = Path("/work/shared/data")
SETS = ("scifact", "cmrc2018_zh_trial", "cosqa_dev")
CACHE = ROOT / ".cache" / "fusion-study"


@dataclass
class Dataset:
    name: str
    doc_ids: list[str]
    doc_texts: list[str]
    query_ids: list[str]
    query_texts: list[str]
    qrels: dict[str, set[str]]


def load_dataset(name: str) -> Dataset:
    """A BEIR folder; only the queries that have (positive) qrels."""
    folder = DATA / name
    doc_ids, doc_texts = [], []
    with open(folder / "corpus.jsonl", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            doc_ids.append(str(row["_id"]))
            title = row.get("title") or ""
            doc_texts.append(f"{title}\n{row.get('text') or ''}" if title else row.get("text") or "")
    qrels: dict[str, set[str]] = {}
    with open(folder / "qrels" / "test.tsv", encoding="utf-8") as f:
        next(f)
        for line in f:
            qid, did, score = line.rstrip("\n").split("\t")
            if float(score) > 0:
                qrels.setdefault(qid, set()).add(did)
    query_ids, query_texts = [], []
    with open(folder / "queries.jsonl", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            if str(row["_id"]) in qrels:
                query_ids.append(str(row["_id"]))
                query_texts.append(row["text"])
    return Dataset(name, doc_ids, doc_texts, query_ids, query_texts, qrels)


def _digest(texts: Sequence[str]) -> str:
    h = hashlib.blake2b(digest_size=8)
    for text in texts:
        h.update(text.encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()


def embeddings(ds: Dataset, *, compute: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(doc vectors, query vectors), cached as npy keyed by dataset and content digest."""
    CACHE.mkdir(parents=True, exist_ok=True)
    out = []
    embedder = None
    for kind, texts in (("docs", ds.doc_texts), ("queries", ds.query_texts)):
        path = CACHE / f"{ds.name}-{kind}-minilm-{_digest(texts)}.npy"
        if not path.exists():
            if not compute:
                raise SystemExit(f"no cached {path.name}: run `python bench/fusion_study.py embed` first")
            if embedder is None:
                from ingest.embedding import Embedder
                from ingest.encoders import MINILM

                embedder = Embedder(MINILM, batch_size=32)
                embedder.warm_up()
            start = time.perf_counter()
            vectors = embedder.embed_documents(texts)
            np.save(path, vectors)
            elapsed = time.perf_counter() - start
            print(f"{ds.name} {kind}: {len(texts)} in {elapsed:.0f} s", file=sys.stderr)  # noqa: T201
        out.append(np.load(path))
    return out[0], out[1]


# ---------------------------------------------------------------- first-stage runs (exact)

Run = list[list[tuple[str, float]]]
"""One ranked (id, score) list per query, best first."""


def dense_run(ds: Dataset, doc_vecs: np.ndarray, query_vecs: np.ndarray, depth: int) -> Run:
    """Exact cosine top-``depth`` (vectors are unit length)."""
    scores = query_vecs @ doc_vecs.T
    return [_top(ds.doc_ids, row, depth) for row in scores]


def lexical_run(ds: Dataset, encoder, depth: int) -> Run:
    """Exact top-``depth`` of Σ_t idf(t)·q_t·d_t with Qdrant's idf, over the encoder's sparse vectors."""
    from scipy import sparse

    columns: dict[int, int] = {}
    rows, cols, vals = [], [], []
    for row, text in enumerate(ds.doc_texts):
        indices, values = encoder.encode_document(text)
        for index, value in zip(indices, values, strict=True):
            rows.append(row)
            cols.append(columns.setdefault(index, len(columns)))
            vals.append(value)
    matrix = sparse.csc_matrix((vals, (rows, cols)), shape=(len(ds.doc_texts), len(columns)))
    n = matrix.shape[0]
    df = np.diff(matrix.indptr)
    idf = np.log(1.0 + (n - df + 0.5) / (df + 0.5))
    run = []
    for text in ds.query_texts:
        indices, values = encoder.encode_query(text)
        picked = [(columns[i], v) for i, v in zip(indices, values, strict=True) if i in columns]
        if not picked:
            run.append([])
            continue
        qcols = np.array([c for c, _ in picked])
        weights = np.array([v for _, v in picked]) * idf[qcols]
        scores = np.asarray(matrix[:, qcols] @ weights).ravel()
        run.append([hit for hit in _top(ds.doc_ids, scores, depth) if hit[1] > 0])
    return run


def _top(ids: list[str], scores: np.ndarray, depth: int) -> list[tuple[str, float]]:
    k = min(depth, len(scores))
    part = np.argpartition(-scores, k - 1)[:k]
    order = part[np.lexsort((part, -scores[part]))]
    return [(ids[i], float(scores[i])) for i in order]


# ---------------------------------------------------------------- metrics


def evaluate(ds: Dataset, run: Run) -> dict[str, float]:
    """Mean nDCG@10, Recall@50 and MRR@10 with binary relevance."""
    ndcg = recall = mrr = 0.0
    for qid, ranked in zip(ds.query_ids, run, strict=True):
        relevant = ds.qrels[qid]
        ids = [doc_id for doc_id, _ in ranked]
        dcg = sum(1.0 / math.log2(i + 2) for i, d in enumerate(ids[:10]) if d in relevant)
        ideal = sum(1.0 / math.log2(i + 2) for i in range(min(10, len(relevant))))
        ndcg += dcg / ideal
        recall += len(relevant.intersection(ids[:50])) / len(relevant)
        mrr += next((1.0 / (i + 1) for i, d in enumerate(ids[:10]) if d in relevant), 0.0)
    n = len(ds.query_ids)
    return {"ndcg@10": ndcg / n, "recall@50": recall / n, "mrr@10": mrr / n}


# ---------------------------------------------------------------- fusion methods

Method = Callable[[list, list, str], list]
"""(dense top-k, lexical top-k, query text) → fused ranking of at most 50."""


def _zscores(ranked: list) -> dict[str, float]:
    scores = np.array([s for _, s in ranked], dtype=float)
    std = scores.std(ddof=1) if len(scores) > 1 else 0.0
    return {i: (s - scores.mean()) / std if std > 0 else 0.0 for i, s in ranked}


def zscore_sum(dense: list, lexical: list, power: float = 0.0) -> list:
    """Σ z-scores (a missing candidate gets its list's lowest z); weights (top z)^power."""
    lists = [_zscores(r) for r in (dense, lexical) if r]
    weights = [max(max(z.values()), 1e-6) ** power for z in lists]
    fused: dict[str, float] = {}
    for i in set().union(*lists):
        fused[i] = sum(w * z.get(i, min(z.values())) for w, z in zip(weights, lists, strict=True))
    return fusion._best(fused, fusion._first_ranks(dense, lexical), LIMIT)


def min_max_sum(dense: list, lexical: list) -> list:
    """Σ min-max normalised scores (Qdrant's min-max normalisation; missing adds 0)."""
    fused: dict[str, float] = {}
    for ranked in (dense, lexical):
        if not ranked:
            continue
        hi, lo = max(s for _, s in ranked), min(s for _, s in ranked)
        for i, s in ranked:
            fused[i] = fused.get(i, 0.0) + ((s - lo) / (hi - lo) if hi > lo else 0.5)
    return fusion._best(fused, fusion._first_ranks(dense, lexical), LIMIT)


def weighted_rrf(dense_weight: float, lexical_weight: float) -> Method:
    return lambda d, lx, q: fusion.rrf([d, lx], limit=LIMIT, weights=[dense_weight, lexical_weight])


def sift_fuse(config: fusion.FusionConfig) -> Method:
    return lambda d, lx, q: fusion.fuse(d, lx, limit=LIMIT, query=q, config=config)


LIMIT = 50
BASE = fusion.DEFAULT_FUSION
NO_CJK = replace(BASE, cjk_boost=0.0)
METHODS: dict[str, Method] = {
    "dense only": lambda d, lx, q: d[:LIMIT],
    "lexical only": lambda d, lx, q: lx[:LIMIT],
    "RRF k=60": lambda d, lx, q: fusion.rrf([d, lx], limit=LIMIT, k=60),
    "RRF k=2 (Qdrant default)": lambda d, lx, q: fusion.rrf([d, lx], limit=LIMIT, k=2),
    "weighted RRF k=60, dense 1 : lexical 0.5": weighted_rrf(1.0, 0.5),
    "weighted RRF k=60, dense 0.5 : lexical 1": weighted_rrf(0.5, 1.0),
    "DBSF (Qdrant)": lambda d, lx, q: fusion.dbsf([d, lx], limit=LIMIT),
    "min-max sum": lambda d, lx, q: min_max_sum(d, lx),
    "z-score sum": lambda d, lx, q: zscore_sum(d, lx),
    "z-score sum, weight (top z)^2": lambda d, lx, q: zscore_sum(d, lx, power=2.0),
    "cos + λ·BM25 (fixed λ)": sift_fuse(replace(NO_CJK, dense_confident=1e-9)),
    "… + CJK-share boost": sift_fuse(replace(BASE, dense_confident=1e-9)),
    "… + low-top-cosine boost (no CJK)": sift_fuse(NO_CJK),
    "**Sift fuse** (both boosts, default)": sift_fuse(BASE),
}


# ---------------------------------------------------------------- the study


@dataclass
class Prepared:
    ds: Dataset
    dense: Run
    lexical: Run


def prepare(names: Sequence[str], depth: int, encoder=None) -> list[Prepared]:
    """Each set with its exact dense and lexical top-``depth`` runs."""
    from retrieval.lexical import LexicalEncoder

    encoder = encoder or LexicalEncoder()
    out = []
    for name in names:
        ds = load_dataset(name)
        doc_vecs, query_vecs = embeddings(ds)
        out.append(Prepared(ds, dense_run(ds, doc_vecs, query_vecs, depth), lexical_run(ds, encoder, depth)))
    return out


def score(prepared: Prepared, method: Method, depth: int) -> dict[str, float]:
    p = prepared
    lists = zip(p.dense, p.lexical, p.ds.query_texts, strict=True)
    return evaluate(p.ds, [method(d[:depth], lx[:depth], q) for d, lx, q in lists])


def _cell(m: dict[str, float]) -> str:
    return f"{m['ndcg@10']:.3f} / {m['recall@50']:.3f} / {m['mrr@10']:.3f}"


def table(sets: list[Prepared], methods: dict[str, Method], depth: int, title: str) -> str:
    lines = [f"{title} (nDCG@10 / R@50 / MRR@10; {depth} candidates per signal, fused list cut to {LIMIT})",
             "", "| method | " + " | ".join(p.ds.name for p in sets) + " |", "|---" * (len(sets) + 1) + "|"]
    for name, method in methods.items():
        lines.append(f"| {name} | " + " | ".join(_cell(score(p, method, depth)) for p in sets) + " |")
    return "\n".join(lines)


def sensitivity(names: Sequence[str], depth: int) -> str:
    """The default rule with one parameter moved at a time (fusion and lexical encoder)."""
    from retrieval.lexical import AVG_LEN, K1, B, LexicalEncoder

    base_sets = prepare(names, depth)
    rows: dict[str, Method] = {"default": sift_fuse(BASE)}
    for lam in (0.006, 0.0075, 0.0105, 0.012):
        rows[f"λ = {lam}"] = sift_fuse(replace(BASE, lexical_weight=lam))
    for boost in (3.0, 30.0):
        rows[f"cjk_boost = {boost:g}"] = sift_fuse(replace(BASE, cjk_boost=boost))
    for conf in (0.6, 0.8):
        rows[f"dense_confident = {conf}"] = sift_fuse(replace(BASE, dense_confident=conf))
    out = [table(base_sets, rows, depth, "Sensitivity of `fuse` to its parameters")]
    out.append(table(base_sets, {"default": sift_fuse(BASE)}, 50, "The default rule fed top-50 lists"))
    lexical_rows = []
    for k1, b, avg_len in ((0.9, B, AVG_LEN), (1.5, B, AVG_LEN), (K1, 0.5, AVG_LEN), (K1, 0.9, AVG_LEN),
                           (K1, B, 60.0), (K1, B, 200.0)):
        encoder = LexicalEncoder(k1=k1, b=b, avg_len=avg_len)
        sets = [Prepared(p.ds, p.dense, lexical_run(p.ds, encoder, depth)) for p in base_sets]
        label = f"k1={k1} b={b} avg_len={avg_len:g}"
        lexical_rows.append(f"| {label}, lexical only | " + " | ".join(
            _cell(score(p, METHODS["lexical only"], depth)) for p in sets) + " |")
        lexical_rows.append(f"| {label}, fuse | " + " | ".join(
            _cell(score(p, sift_fuse(BASE), depth)) for p in sets) + " |")
    out.append("\n".join([f"Sensitivity to the BM25 encoder (default k1={K1} b={B} avg_len={AVG_LEN:g})", "",
                          "| encoder, method | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|",
                          *lexical_rows]))
    return "\n\n".join(out)


def timing() -> str:
    """Mean encode time per 240-model-token chunk, per kind of text (one pass from a cold word cache)."""
    from ingest.embedding import Embedder
    from ingest.encoders import MINILM
    from retrieval import lexical

    embedder = Embedder(MINILM)
    embedder.warm_up()
    lines = ["| text | chunks | ms per chunk (encode_document) | distinct terms per chunk |",
             "|---|---|---|---|"]
    for name in SETS:
        ds = load_dataset(name)
        texts, buffer = [], ""
        for text in ds.doc_texts:  # concatenate short docs so every chunk is a full ~240 tokens
            buffer = f"{buffer}\n{text}" if buffer else text
            if embedder.count_tokens(buffer) >= 240:
                texts.append(embedder.truncate(buffer, 240))
                buffer = ""
            if len(texts) == 1000:
                break
        lexical._word_terms.cache_clear()
        encoder = lexical.LexicalEncoder()
        del ds
        gc.collect()
        start = time.perf_counter()
        terms = sum(len(encoder.encode_document(text)[0]) for text in texts)
        elapsed = time.perf_counter() - start
        per_chunk = 1000 * elapsed / len(texts)
        lines.append(f"| {name} | {len(texts)} | {per_chunk:.3f} | {terms / len(texts):.0f} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", nargs="?", default="table",
                        choices=("embed", "table", "sensitivity", "timing"))
    parser.add_argument("--sets", nargs="*", default=list(SETS))
    parser.add_argument("--depth", type=int, default=BASE.candidates,
                        help="candidates per signal before fusion")
    args = parser.parse_args(argv)
    if args.command == "embed":
        for name in args.sets:
            embeddings(load_dataset(name), compute=True)
    elif args.command == "table":
        print(table(prepare(args.sets, args.depth), METHODS, args.depth, "Fusion methods"))  # noqa: T201
    elif args.command == "sensitivity":
        print(sensitivity(args.sets, args.depth))  # noqa: T201 - the study's output
    else:
        print(timing())  # noqa: T201 - the study's output


if __name__ == "__main__":
    main()
