"""Reranker engines on this CPU: ``vllm`` vs ``transformers`` on a Qwen3-Reranker-0.6B-shaped model.

The model has random weights (scripts/build_tiny_reranker.py --shape 0.6b, built once into
.cache/reranker-0.6b); speed does not depend on the weights. Each call scores one query against 50
SciFact abstracts cut to ``--doc-tokens`` tokens:

- cold: a query no earlier call used, and vLLM's prefix cache emptied first (the system text and
  instruction are the same in every call, so they would otherwise come from the cache);
- prefix reuse: the query and instruction of an earlier call with 50 new documents, so vLLM can
  reuse the cached system+instruction+query blocks (the transformers engine recomputes them).

Prints a markdown table and writes it into docs/benchmarks.md (its own section only, unless --no-write).

    .venv/bin/python bench/rerank_cpu.py [--doc-tokens 128] [--runs 3] [--engines transformers,vllm]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.report import write_section  # noqa: E402
from rerank.base import RerankEngine, RerankPair  # noqa: E402
from rerank.engines import create_engine  # noqa: E402
from rerank.prompt import build_prompt  # noqa: E402
from rerank.vllm_local import VllmEngine  # noqa: E402

SCIFACT = REPO.parent / "shared" / "data" / "scifact"
MODEL_DIR = REPO / ".cache" / "reranker-0.6b"
DOCS_PER_CALL = 50
INSTRUCTION = "Given a scientific claim, retrieve abstracts that support or refute the claim"
SECTION = "Reranker engines on CPU"


def build_model() -> Path:
    """The 0.6B-shaped random reranker, built on first use."""
    sys.path.insert(0, str(REPO / "scripts"))
    from build_tiny_reranker import build_tiny_reranker

    return build_tiny_reranker(MODEL_DIR, "0.6b")


def load_workload(tokenizer, doc_tokens: int, calls: int) -> tuple[list[str], list[list[str]]]:
    """``calls`` queries and ``calls`` sets of 50 distinct abstracts, each cut to ``doc_tokens`` tokens."""
    queries = [json.loads(line)["text"] for line in (SCIFACT / "queries.jsonl").open()][:calls]
    docs: list[str] = []
    with (SCIFACT / "corpus.jsonl").open() as corpus:
        for line in corpus:
            row = json.loads(line)
            text = f"{row['title']}\n{row['text']}"
            encoding = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
            if len(encoding["input_ids"]) < doc_tokens:
                continue
            docs.append(text[: encoding["offset_mapping"][doc_tokens - 1][1]])
            if len(docs) == calls * DOCS_PER_CALL:
                break
    sets = [docs[i * DOCS_PER_CALL : (i + 1) * DOCS_PER_CALL] for i in range(calls)]
    return queries, sets


def timed_score(engine: RerankEngine, query: str, docs: list[str], *, cold: bool = False) -> float:
    pairs = [RerankPair(query, doc, INSTRUCTION) for doc in docs]
    if cold and isinstance(engine, VllmEngine):
        engine.reset_prefix_cache()
    start = time.perf_counter()
    engine.score(pairs)
    return time.perf_counter() - start


def bench_engine(engine: RerankEngine, queries: list[str], sets: list[list[str]], runs: int) -> dict:
    """Warm-up call, then ``runs`` cold calls and ``runs`` prefix-reuse calls; medians in seconds."""
    start = time.perf_counter()
    engine.warm_up()
    init_s = time.perf_counter() - start
    timed_score(engine, queries[0], sets[0])  # first call: allocations, kernels, caches
    cold = [timed_score(engine, queries[1 + r], sets[1 + r], cold=True) for r in range(runs)]
    reuse = [timed_score(engine, queries[0], sets[1 + runs + r]) for r in range(runs)]
    engine.close()
    return {"init_s": init_s, "cold_s": statistics.median(cold), "reuse_s": statistics.median(reuse)}


def make_engine(name: str, model: Path, args: argparse.Namespace) -> RerankEngine:
    if name == "transformers":
        engine = create_engine(
            name, model=str(model), max_length=args.max_length, dtype=args.dtype, device="cpu"
        )
    else:
        engine = create_engine(
            name, model=str(model), max_length=args.max_length, dtype=args.dtype, enforce_eager=True,
            engine_args={"block_size": args.block_size},
        )
    assert engine is not None
    return engine


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark, print the table and record it in docs/benchmarks.md."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engines", default="transformers,vllm")
    parser.add_argument("--doc-tokens", type=int, default=128)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--dtype", default="bfloat16", choices=["float32", "bfloat16"])
    parser.add_argument("--block-size", type=int, default=32, help="vLLM KV block (CPU: multiple of 32)")
    parser.add_argument("--max-length", type=int, default=2048)
    parser.add_argument("--kv-cache-gib", default="4", help="VLLM_CPU_KVCACHE_SPACE")
    parser.add_argument("--no-write", action="store_true", help="print only, leave docs/benchmarks.md")
    args = parser.parse_args(argv)

    cache = REPO / ".cache"
    (cache / "vllm-tmp").mkdir(parents=True, exist_ok=True)
    os.environ.update(
        VLLM_CPU_KVCACHE_SPACE=args.kv_cache_gib, VLLM_CPU_NUM_OF_RESERVED_CPU="0", VLLM_HOST_IP="127.0.0.1",
        VLLM_NO_USAGE_STATS="1", HF_HUB_OFFLINE="1", VLLM_CACHE_ROOT=str(cache / "vllm"),
        TMPDIR=str(cache / "vllm-tmp"),
    )
    model = build_model()
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model)
    queries, sets = load_workload(tokenizer, args.doc_tokens, calls=1 + 2 * args.runs)
    prompts = [build_prompt(queries[0], doc, INSTRUCTION) for doc in sets[0]]
    prompt_tokens = sum(len(ids) for ids in tokenizer(prompts, add_special_tokens=False)["input_ids"])

    results = {}
    for name in args.engines.split(","):
        results[name] = bench_engine(make_engine(name, model, args), queries, sets, args.runs)
        print(f"{name}: {results[name]}", file=sys.stderr)  # noqa: T201 - a script's progress

    rows = [
        "| engine | dtype | start-up s | 50 docs, cold s | 50 docs, prefix reuse s | docs/s (reuse) |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        rows.append(
            f"| {name} | {args.dtype} | {r['init_s']:.1f} | {r['cold_s']:.2f} | {r['reuse_s']:.2f} "
            f"| {DOCS_PER_CALL / r['reuse_s']:.1f} |"
        )
    body = "\n".join(
        [
            *rows,
            "",
            f"Qwen3-Reranker-0.6B shape (random weights); 50 SciFact abstracts cut to {args.doc_tokens} "
            "tokens "
            f"({prompt_tokens} prompt tokens per call, {prompt_tokens // DOCS_PER_CALL} per pair), median of "
            f"{args.runs} calls after one warm-up call. vLLM {_vllm_version()} (enforce_eager, block_size "
            f"{args.block_size}, prefix caching on), transformers {_version('transformers')}, torch "
            f"{_version('torch')}.",
            "",
            "Cold: a new query, and vLLM's prefix cache emptied first. Prefix reuse: the query and "
            "instruction of the call before, with 50 new documents. The transformers engine computes the "
            "prefix the 50 prompts share (system text, instruction, query) once per micro-batch inside every "
            "call (`share_prefix`, on by default), so an earlier call brings it nothing more. vLLM "
            "shares prefixes through its block cache (block_size 32 here; the CPU default of 128 is larger "
            "than the ~90-token prefix): across calls, and within a call too, since it runs a call in "
            "scheduler steps of 4,096 tokens and later steps find the blocks of earlier ones, so even a "
            "cold call reuses the prefix for most documents. Two shared cores: other jobs may have run at "
            "the same time, so compare numbers within one run.",
        ]
    )
    print(body)  # noqa: T201 - the benchmark's output
    if not args.no_write:
        write_section(SECTION, body)


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def _vllm_version() -> str:
    return _version("vllm-cpu") if _version("vllm-cpu") != "not installed" else _version("vllm")


if __name__ == "__main__":
    main()
