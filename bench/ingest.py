"""Ingest throughput: SciFact through the real pipeline, next to the raw encode rate of the same chunks.

    python bench/ingest.py [--limit N]

Both runs use the same model, chunker and chunk texts, in one process. The pipeline runs on a
fresh data dir with an empty embedding cache, so every chunk is encoded. Target: end to end at
least 85% of the raw encode rate.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api.ingestion import IngestItem  # noqa: E402
from api.service import Sift  # noqa: E402
from api.settings import load_settings  # noqa: E402
from bench.report import write_section  # noqa: E402
from ingest.loaders import load_document  # noqa: E402

SCIFACT = Path(__file__).resolve().parents[2] / "shared" / "data" / "scifact" / "corpus.jsonl"
BATCH_DOCS = 64


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=SCIFACT)
    parser.add_argument("--limit", type=int, default=None, help="Only the first N documents.")
    parser.add_argument("--no-write", action="store_true", help="Print only; leave docs/benchmarks.md alone.")
    args = parser.parse_args()

    with open(args.corpus, encoding="utf-8") as handle:
        corpus = [json.loads(line) for line in handle][: args.limit]
    items = [IngestItem(content=d["text"], doc_id=d["_id"], title=d.get("title") or None, content_type="text/plain")
             for d in corpus]

    with tempfile.TemporaryDirectory() as scratch:
        sift = Sift(load_settings(data_dir=Path(scratch), _env_file=None))
        sift.start()
        chunker = sift.pipeline.chunker
        texts = [c.embedding_text for item in items for c in chunker.chunk_document(
            load_document(item.content, doc_id=item.doc_id, title=item.title, content_type="text/plain"))]
        encoder = sift.embedder.encoder
        encoder.encode_passages(texts[:64])  # warm-up

        started = time.perf_counter()
        encoder.encode_passages(texts)
        raw_s = time.perf_counter() - started

        started = time.perf_counter()
        batches = [items[i:i + BATCH_DOCS] for i in range(0, len(items), BATCH_DOCS)]
        written = sum(r.chunks for results in sift.pipeline.ingest_stream("bench", batches) for r in results)
        pipeline_s = time.perf_counter() - started
        import asyncio

        asyncio.run(sift.close())

    assert written == len(texts), (written, len(texts))
    raw_rate, e2e_rate = len(texts) / raw_s, written / pipeline_s
    table = "\n".join([
        "| run | documents | chunks | seconds | docs/s | chunks/s | share of raw encode |",
        "|---|---|---|---|---|---|---|",
        f"| raw encoder, passages only | – | {len(texts)} | {raw_s:.1f} | – | {raw_rate:.1f} | 100% |",
        f"| Sift pipeline (clean, chunk, embed, store) | {len(items)} | {written} | {pipeline_s:.1f} "
        f"| {len(items) / pipeline_s:.1f} | {e2e_rate:.1f} | {e2e_rate / raw_rate:.0%} |",
    ])
    print(table)
    if not args.no_write:
        write_section("Ingest throughput (SciFact)", table + "\n\nTarget: the pipeline reaches at least 85% "
                      "of the raw encode rate of the same chunks (all-MiniLM-L6-v2, CPU).")


if __name__ == "__main__":
    main()
