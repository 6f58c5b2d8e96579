"""Fit and measure the calibration of retrieval scores (``retrieval/calibration.py``) on the shared sets.

    python bench/calibration.py collect   # once: ingest the sets through Sift, record the top-10 of every query
    python bench/calibration.py           # fit on one half of the queries, measure on the other, write the table

On a loaded 2-core machine MiniLM encodes the ~20k chunks too slowly; the encoding can be done on a
GPU machine first (the vectors then wait in the embedding cache that ``collect`` reads):

    python bench/calibration.py texts         # the exact chunk texts, the questions, MiniLM stored as fp16
    python3 bench/calibration.py embed DIR    # on the GPU machine, with .cache/calibration/device carried
    python bench/calibration.py load DIR      # chunk vectors into the embedding cache, question vectors beside

fp16 storage rounds MiniLM's weights (relative error ~1e-3 per weight), which moves cosines by ~1e-4:
nothing a calibration fit can see. Without the GPU steps everything is encoded here, by the fp32 model.

Every query of scifact (English), cmrc2018_zh_trial (Chinese) and cosqa_dev (code) runs through
``Sift.retrieve`` in each search mode, exactly as ``/v1/query`` does; each of its top 10 chunks is a
row labelled relevant when its document is in the qrels. Off-topic questions are added on purpose: 150
questions of each set are also asked of the other sets' collections, where nothing is relevant, so the
table shows whether a threshold can tell "no answer" from "answer" across languages.

Queries are split in halves by a hash of their id (the same split for every mode); the logistic
regression is fitted on the first half and every number is reported on both halves.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


DATA = Path("/work/shared/data")
SETS = ("scifact", "cmrc2018_zh_trial", "cosqa_dev")
MODES = ("dense", "lexical", "hybrid")
CACHE = ROOT / ".cache" / "calibration"
ROWS = CACHE / "rows.jsonl"
DEVICE = CACHE / "device"  # what travels to the GPU machine
VECTOR_PART_ROWS = 8000  # 12 MB a file: the device returns files of up to 16 MiB
QUESTION_VECTORS = CACHE / "questions.npz"
TOP = 10
OFF_TOPIC = 150


def held_out(query_id: str) -> bool:
    """The stable half of the queries that the fit never sees."""
    return hashlib.sha256(query_id.encode()).digest()[0] % 2 == 1


def _sift(data_dir: Path):
    from api.service import Sift
    from api.settings import load_settings

    settings = load_settings(_env_file=None, data_dir=data_dir, rerank_engine="none", qdrant_url=None,
                             embed_cache=CACHE / "embeddings.sqlite3")
    sift = Sift(settings)
    sift.start()
    return sift


def _batches(dataset):
    """The corpus as ingest items, in batches, as ``sift eval`` ingests it."""
    from api.evaluation import INGEST_BATCH
    from api.ingestion import IngestItem

    for start in range(0, len(dataset.corpus), INGEST_BATCH):
        yield [IngestItem(content=doc.get("text") or doc.get("title") or " ", doc_id=str(doc["_id"]),
                          title=doc.get("title") or None, content_type="text/plain")
               for doc in dataset.corpus[start:start + INGEST_BATCH]]


def texts() -> None:
    """The text of every chunk the ingest would embed, and MiniLM in fp16, into .cache/calibration/device."""
    import gzip
    import shutil

    from api.evaluation import load_beir

    sift = _sift(CACHE / "plan")
    try:
        unique: dict[str, None] = {}
        for name in SETS:
            for batch in _batches(load_beir(DATA / name)):
                for plan in sift.pipeline.plan(name, sift.pipeline.prepare(batch)):
                    unique.update(dict.fromkeys(chunk.embedding_text for chunk in plan.chunks))
        model_dir = Path(sift.embedder.model_name)
    finally:
        sift.index.close()
        sift.embedder.close()
    DEVICE.mkdir(parents=True, exist_ok=True)
    with gzip.open(DEVICE / "texts.jsonl.gz", "wt", encoding="utf-8") as out:
        out.writelines(json.dumps(text, ensure_ascii=False) + "\n" for text in unique)
    questions = sorted({text for name in SETS for text in load_beir(DATA / name).queries.values()})
    with gzip.open(DEVICE / "questions.jsonl.gz", "wt", encoding="utf-8") as out:
        out.writelines(json.dumps(text, ensure_ascii=False) + "\n" for text in questions)
    from safetensors.torch import load_file, save_file

    shutil.copytree(model_dir, DEVICE / "model", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("model.safetensors", "*.onnx", "onnx", "openvino"))
    weights = {k: v.half() for k, v in load_file(model_dir / "model.safetensors").items()}
    save_file(weights, DEVICE / "model" / "model.safetensors")
    print(f"{len(unique)} chunk texts and the fp16 model in {DEVICE}", file=sys.stderr)


def embed(out: Path) -> None:
    """On the GPU machine: encode the texts as ``Embedder.embed_documents`` does, in fp32."""
    import gzip

    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(DEVICE / "model"), device="cuda").float()
    out.mkdir(parents=True, exist_ok=True)
    for name in ("texts", "questions"):
        with gzip.open(DEVICE / f"{name}.jsonl.gz", "rt", encoding="utf-8") as handle:
            chunks = [json.loads(line) for line in handle]
        vectors = model.encode(chunks, batch_size=256, normalize_embeddings=True, convert_to_numpy=True,
                               show_progress_bar=False).astype(np.float32)
        for part, start in enumerate(range(0, len(chunks), VECTOR_PART_ROWS)):
            np.save(out / f"{name}-{part}.npy", vectors[start:start + VECTOR_PART_ROWS])
        print(f"{len(chunks)} {name} vectors of {vectors.shape[1]} in {out}")


def load(folder: Path) -> None:
    """The device's vectors into the embedding cache that ``collect`` ingests from."""
    import gzip

    def read(name: str) -> tuple[list[str], np.ndarray]:
        with gzip.open(DEVICE / f"{name}.jsonl.gz", "rt", encoding="utf-8") as handle:
            texts = [json.loads(line) for line in handle]
        parts = sorted(folder.glob(f"{name}-*.npy"), key=lambda p: int(p.stem.split("-")[1]))
        vectors = np.concatenate([np.load(p) for p in parts])
        if len(vectors) != len(texts):
            raise SystemExit(f"{len(vectors)} vectors for {len(texts)} {name}")
        return texts, vectors

    chunks, vectors = read("texts")
    questions, question_vectors = read("questions")
    np.savez(QUESTION_VECTORS, questions=np.array(questions, dtype=object), vectors=question_vectors)
    sift = _sift(CACHE / "plan")
    try:
        sift.embedder._cache.put_many(chunks, vectors)  # the cache under the embedder's own model key
    finally:
        sift.index.close()
        sift.embedder.close()
    print(f"cached {len(chunks)} vectors", file=sys.stderr)


def collect() -> None:
    """Ingest each set into its own collection and write one row per (query, mode, rank)."""
    from api.evaluation import load_beir

    sift = _sift(CACHE / "data")
    datasets = {name: load_beir(DATA / name) for name in SETS}
    encoded: dict[str, np.ndarray] = {}
    if QUESTION_VECTORS.is_file():  # from the GPU machine (see the module's docstring)
        stored = np.load(QUESTION_VECTORS, allow_pickle=True)
        encoded = dict(zip(stored["questions"].tolist(), stored["vectors"], strict=True))
    try:
        present = {c.name: c.documents for c in sift.index.collections()}
        for name, dataset in datasets.items():
            if present.get(name, 0) < len(dataset.corpus):
                print(f"ingesting {name} ({len(dataset.corpus)} documents)", file=sys.stderr)
                for _ in sift.pipeline.ingest_stream(name, _batches(dataset)):
                    pass
        with open(ROWS, "w", encoding="utf-8") as out:
            for name, dataset in datasets.items():
                asked = [(name, qid, text, dataset.qrels[qid]) for qid, text in dataset.queries.items()]
                for other, other_set in datasets.items():
                    if other != name:  # questions whose answers are in another collection
                        asked += [(name, f"{other}:{qid}", text, set())
                                  for qid, text in list(other_set.queries.items())[:OFF_TOPIC]]
                print(f"querying {name}: {len(asked)} questions x {len(MODES)} modes", file=sys.stderr)
                for collection, query_id, text, relevant in asked:
                    vector = encoded[text] if text in encoded else sift.embedder.embed_query(text)
                    for mode in MODES:  # what Sift.retrieve does, with the question encoded once
                        found = sift.index.search(collection, question=text, vector=vector, limit=TOP, mode=mode)
                        for rank, chunk in enumerate(found, start=1):
                            out.write(json.dumps({
                                "set": name, "query": query_id, "question": text, "mode": mode, "rank": rank,
                                "score": chunk.score, "relevant": chunk.doc_id in relevant,
                            }, ensure_ascii=False) + "\n")
    finally:
        sift.index.close()
        sift.embedder.close()


def load_rows() -> list[dict]:
    if not ROWS.is_file():
        raise SystemExit(f"{ROWS} is missing: run `python bench/calibration.py collect` first")
    with open(ROWS, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def fit(rows: Sequence[dict]) -> dict[str, tuple[float, ...]]:
    """Logistic regression per mode on the fit half: intercept, then one weight per feature."""
    from sklearn.linear_model import LogisticRegression

    from retrieval.calibration import features

    fitted = {}
    for mode in MODES:
        part = [r for r in rows if r["mode"] == mode and not held_out(r["query"])]
        x = np.array([features(r["score"], question=r["question"], rank=r["rank"]) for r in part])
        y = np.array([r["relevant"] for r in part])
        model = LogisticRegression(C=10.0, max_iter=5000).fit(x, y)
        fitted[mode] = (round(float(model.intercept_[0]), 4), *(round(float(w), 4) for w in model.coef_[0]))
    return fitted


# Scores to compare: what /v1/query gives now, and what people would otherwise threshold.

def raw(rows: Sequence[dict]) -> list[float]:
    return [r["score"] for r in rows]


def min_max(rows: Sequence[dict]) -> list[float]:
    """Per-query min-max normalisation (LlamaIndex's relative score fusion, many hand-written RAG stacks)."""
    by_query: dict[tuple, list[float]] = defaultdict(list)
    for r in rows:
        by_query[(r["set"], r["query"], r["mode"])].append(r["score"])
    out = []
    for r in rows:
        scores = by_query[(r["set"], r["query"], r["mode"])]
        low, high = min(scores), max(scores)
        out.append((r["score"] - low) / (high - low) if high > low else 1.0)
    return out


def calibrated(coefficients: dict[str, tuple[float, ...]]) -> Callable[[Sequence[dict]], list[float]]:
    from retrieval.calibration import probability
    from retrieval.lexical import cjk_share

    def score(rows: Sequence[dict]) -> list[float]:
        return [probability(coefficients[r["mode"]], r["score"], rank=r["rank"], cjk=cjk_share(r["question"]))
                for r in rows]
    return score


# Measures

def ece(probabilities: Sequence[float], labels: Sequence[bool], bins: int = 10) -> float:
    """Expected calibration error: |mean score − share relevant| over equal-width bins, weighted."""
    total, error = len(labels), 0.0
    for b in range(bins):
        members = [i for i, p in enumerate(probabilities) if b / bins <= p < (b + 1) / bins or (b == bins - 1
                                                                                            and p == 1.0)]
        if members:
            error += len(members) / total * abs(np.mean([probabilities[i] for i in members])
                                                - np.mean([labels[i] for i in members]))
    return error


def auc(scores: Sequence[float], labels: Sequence[bool]) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(labels, scores)) if 0 < sum(labels) < len(labels) else float("nan")


def best_threshold_accuracy(scores: Sequence[float], labels: Sequence[bool]) -> tuple[float, float]:
    """The single threshold that best separates relevant from irrelevant rows, and its accuracy."""
    order = np.argsort(scores)
    s, y = np.array(scores)[order], np.array(labels, dtype=float)[order]
    below_irrelevant = np.concatenate([[0], np.cumsum(1 - y)])  # rows under the cut that are irrelevant
    above_relevant = y.sum() - np.concatenate([[0], np.cumsum(y)])
    accuracy = (below_irrelevant + above_relevant) / len(y)
    best = int(np.argmax(accuracy))
    threshold = float(s[best - 1] if best > 0 else s[0] - 1e-9)
    return threshold, float(accuracy[best])


def first_scores(rows: Sequence[dict], scores: Sequence[float]) -> tuple[float, float]:
    """Mean score of each query's first relevant and of its first irrelevant result."""
    firsts: dict[tuple, dict[bool, float]] = defaultdict(dict)
    for r, s in zip(rows, scores, strict=True):
        firsts[(r["set"], r["query"], r["mode"])].setdefault(r["relevant"], s)
    relevant = [f[True] for f in firsts.values() if True in f]
    irrelevant = [f[False] for f in firsts.values() if False in f]
    return float(np.mean(relevant)) if relevant else float("nan"), float(np.mean(irrelevant))


def answer_accuracy(rows: Sequence[dict], scores: Sequence[float], threshold: float) -> float:
    """Share of questions for which "top result ≥ threshold" equals "a relevant document is in the top 10"."""
    top: dict[tuple, float] = {}
    answerable: dict[tuple, bool] = defaultdict(bool)
    for r, s in zip(rows, scores, strict=True):
        key = (r["set"], r["query"], r["mode"])
        if r["rank"] == 1:
            top[key] = s
        answerable[key] |= r["relevant"]
    return float(np.mean([(top[k] >= threshold) == answerable[k] for k in top]))


def table(rows: Sequence[dict], coefficients: dict[str, tuple[float, ...]]) -> str:
    methods = {"raw retrieval score": raw, "min-max per query": min_max, "calibrated (Sift)": calibrated(coefficients)}
    lines = [
        "| mode | score | half | ECE | AUC, all sets pooled | 1st relevant / 1st irrelevant (en · zh · code) "
        "| one threshold: row accuracy | one threshold: answerable? accuracy |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for mode in MODES:
        fit_rows = [r for r in rows if r["mode"] == mode and not held_out(r["query"])]
        for name, method in methods.items():
            threshold, _ = best_threshold_accuracy(method(fit_rows), [r["relevant"] for r in fit_rows])
            for half, part in (("fit", fit_rows), ("held-out", [r for r in rows if r["mode"] == mode
                                                                 and held_out(r["query"])])):
                scores, labels = method(part), [r["relevant"] for r in part]
                firsts = []
                for dataset in SETS:
                    subset = [(r, s) for r, s in zip(part, scores, strict=True) if r["set"] == dataset]
                    rel, irr = first_scores([r for r, _ in subset], [s for _, s in subset])
                    firsts.append(f"{rel:.2f}/{irr:.2f}")
                calibration = f"{ece(scores, labels):.3f}" if name != "raw retrieval score" or mode == "dense" else "—"
                row_accuracy = float(np.mean([(s >= threshold) == y for s, y in zip(scores, labels, strict=True)]))
                lines.append(
                    f"| {mode} | {name} | {half} | {calibration} | {auc(scores, labels):.3f} | {' · '.join(firsts)} "
                    f"| {row_accuracy:.3f} | {answer_accuracy(part, scores, threshold):.3f} |"
                )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", nargs="?", default="fit", choices=("texts", "embed", "load", "collect", "fit"))
    parser.add_argument("folder", nargs="?", type=Path, help="embed: where to write the vectors; load: read them.")
    parser.add_argument("--no-write", action="store_true", help="Print only; leave docs/benchmarks.md alone.")
    args = parser.parse_args()
    steps = {"texts": texts, "collect": collect, "embed": lambda: embed(args.folder), "load": lambda: load(args.folder)}
    if args.step in steps:
        steps[args.step]()
        return
    from bench.report import write_section
    from retrieval.calibration import CALIBRATION

    rows = load_rows()
    coefficients = fit(rows)
    print("fitted (paste into retrieval/calibration.py CALIBRATION):")
    for mode, weights in coefficients.items():
        print(f"    {mode!r}: {weights},")
    if coefficients != CALIBRATION:
        print("note: the committed CALIBRATION differs from this fit; the table uses this fit", file=sys.stderr)
    counts = defaultdict(int)
    for r in rows:
        counts[(r["set"], held_out(r["query"]))] += r["mode"] == "hybrid" and r["rank"] == 1
    body = (
        "Scores of the top 10 results of every question, per search mode, all-MiniLM-L6-v2 + BM25 "
        "(no reranker). Data: scifact (English), cmrc2018_zh_trial (Chinese), cosqa_dev (code), plus "
        f"{OFF_TOPIC} questions of each set asked of each other set (nothing relevant: they test \"no answer\"). "
        "The calibration is a logistic regression per mode on the raw score, the question's CJK share, their "
        "product and log(rank), fitted on the *fit* half of the questions (split by a hash of the question id) "
        "and reported on both halves. Questions per set (fit/held-out): "
        + ", ".join(f"{s} {counts[(s, False)]}/{counts[(s, True)]}" for s in SETS) + ".\n\n"
        "ECE: expected calibration error over 10 bins (raw lexical and hybrid scores are not in [0, 1], so none). "
        "AUC: relevant vs irrelevant rows of all three sets pooled — what one threshold across languages can "
        "reach. 1st relevant / 1st irrelevant: mean score of each question's first relevant and first irrelevant "
        "result. One threshold: the single cut that best separates relevant rows on the fit half, applied to "
        "both halves; *answerable?*: whether \"top result ≥ cut\" agrees with \"a relevant document is in the "
        "top 10\".\n\n" + table(rows, coefficients) + "\n\n"
        + ("Chunks and questions were encoded on a GPU machine from MiniLM weights stored in fp16 "
           "(`bench/calibration.py texts/embed/load`; cosines move by about 1e-4); ingest and search ran here."
           if QUESTION_VECTORS.is_file() else "")
    )
    print(body)
    if not args.no_write:
        command = "python bench/calibration.py collect && python bench/calibration.py"
        if QUESTION_VECTORS.is_file():
            command = ("python bench/calibration.py texts; python3 bench/calibration.py embed DIR (GPU machine); "
                       "python bench/calibration.py load DIR; " + command)
        write_section("Score calibration (thresholdable scores)", body, command=command)


if __name__ == "__main__":
    main()
