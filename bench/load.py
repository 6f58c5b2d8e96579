"""Questions under upload load: answers/s and latency alone, then with upload clients running.

    python bench/load.py [--questions 4 40] [--uploaders 10] [--seconds 30] [--no-write]

Starts a real ``sift serve`` process on the embedded default (a fresh data dir, the sample knowledge
base, no reranker) and drives it over loopback HTTP from this process: for each number of question
clients in ``--questions``, first those clients asking questions alone, then the same clients while
``--uploaders`` clients upload news pages from ``../shared/data/html_articles`` one at a time
(synchronous multipart uploads, each uploader into a collection of its own, so the question
collection stays the same size). Every client is closed-loop: it sends
its next request when the last one is answered.

Target on a 2-core machine (issue 11): with 10 uploaders running, question p95 at most 3x its idle
p95 and answers/s at least half of idle, while uploads still make progress.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import write_section  # noqa: E402

HTML_ARTICLES = Path(__file__).resolve().parents[2] / "shared" / "data" / "html_articles" / "html"
QUESTIONS = [
    "How do I reset my password?", "How can I export all my data?", "How do refunds work?",
    "How do I add a team member?", "How do I authenticate API requests?", "如何开启两步验证？",
    "发票在哪里下载？", "存储空间满了怎么办？", "Where do I find my invoices?", "Can I get a refund after 30 days?",
    "API key 在哪里创建？", "How do I turn on two-factor authentication?",
]


@dataclass
class Phase:
    """What the clients of one phase saw."""

    name: str
    seconds: float
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    uploads: int = 0
    chunks: int = 0

    def fail(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1

    def row(self, questions: int, uploaders: int) -> dict[str, float | int | str]:
        latencies = sorted(self.latencies)
        p95 = statistics.quantiles(latencies, n=20)[-1] if len(latencies) > 1 else float("nan")
        return {
            "phase": self.name, "question clients": questions, "upload clients": uploaders,
            "answers/s": len(latencies) / self.seconds,
            "p50 ms": 1000 * statistics.median(latencies) if latencies else float("nan"),
            "p95 ms": 1000 * p95,
            "uploads/s": self.uploads / self.seconds, "chunks/s": self.chunks / self.seconds,
            "errors": ", ".join(f"{k}: {v}" for k, v in sorted(self.errors.items())) or "0",
        }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(data_dir: Path, port: int) -> subprocess.Popen:
    """``sift serve --ingest-sample`` on loopback, as ``make run`` starts it."""
    env = {**os.environ, "SIFT_DATA_DIR": str(data_dir), "SIFT_RERANK_ENGINE": "none", "SIFT_LOG_LEVEL": "warning",
           "SIFT_MAX_CONCURRENT_UPLOADS": "0"}  # every uploader uploads at once: the hardest case
    env.pop("SIFT_QDRANT_URL", None)
    return subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
                             "--ingest-sample"], env=env, cwd=Path(__file__).resolve().parents[1],
                            stdout=subprocess.DEVNULL)


async def wait_ready(client: httpx.AsyncClient, server: subprocess.Popen, timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"sift serve exited with {server.returncode}")
        try:
            if (await client.get("/readyz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.5)
    raise SystemExit("sift serve did not become ready")


async def ask_loop(client: httpx.AsyncClient, phase: Phase, offset: int, stop: float) -> None:
    turn = offset
    while time.monotonic() < stop:
        question = QUESTIONS[turn % len(QUESTIONS)]
        turn += 1
        started = time.perf_counter()
        try:
            response = await client.post("/v1/query", json={"question": question, "collection": "default"})
        except httpx.TransportError as exc:
            phase.fail(type(exc).__name__)
            continue
        if response.status_code == 200:
            phase.latencies.append(time.perf_counter() - started)
        else:
            phase.fail(str(response.status_code))


async def upload_loop(client: httpx.AsyncClient, phase: Phase, pages: list[tuple[str, bytes]], uploader: int,
                      stop: float) -> None:
    turn = uploader
    while time.monotonic() < stop:
        name, html = pages[turn % len(pages)]
        # A fresh id, and a mark in every paragraph, so every upload is new work: an unchanged page, or
        # chunks the embedding cache has seen, would cost next to nothing.
        html = html.replace(b"</p>", b" (%d)</p>" % turn)
        files = [("files", (f"{turn}-{name}", html, "text/html"))]
        turn += 10_000
        try:
            response = await client.post(f"/v1/collections/load-{uploader}/documents", files=files)
        except httpx.TransportError as exc:
            phase.fail(f"upload {type(exc).__name__}")
            continue
        if response.status_code == 200 and time.monotonic() < stop:
            phase.uploads += 1
            phase.chunks += sum(d["chunks"] for d in response.json()["documents"])
        elif response.status_code == 429:  # as a well-behaved client does
            phase.fail("upload 429")
            await asyncio.sleep(float(response.headers.get("retry-after", "1")))
        elif response.status_code != 200:
            phase.fail(f"upload {response.status_code}")


async def run_phase(client: httpx.AsyncClient, name: str, questions: int, uploaders: int, seconds: float,
                    pages: list[tuple[str, bytes]]) -> Phase:
    phase = Phase(name, seconds)
    stop = time.monotonic() + seconds
    tasks = [ask_loop(client, phase, i, stop) for i in range(questions)]
    tasks += [upload_loop(client, phase, pages, i, stop) for i in range(uploaders)]
    await asyncio.gather(*tasks)
    return phase


def load_pages(folder: Path) -> list[tuple[str, bytes]]:
    pages = sorted(folder.glob("*.html.gz"))
    if not pages:
        raise SystemExit(f"no *.html.gz pages in {folder} (pass --pages)")
    return [(path.name.removesuffix(".gz"), gzip.decompress(path.read_bytes())) for path in pages]


def markdown(rows: list[dict]) -> str:
    header = list(rows[0])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        lines.append("| " + " | ".join(f"{v:.1f}" if isinstance(v, float) else str(v) for v in row.values()) + " |")
    return "\n".join(lines)


async def bench(args: argparse.Namespace) -> tuple[list[tuple[dict, dict]], dict]:
    """(questions alone, questions with uploaders) for each number of question clients; uploads alone."""
    pages = load_pages(args.pages)
    port = _free_port()
    pairs = []
    with tempfile.TemporaryDirectory() as data_dir:
        server = start_server(Path(data_dir), port)
        limits = httpx.Limits(max_connections=max(args.questions) + args.uploaders + 4)
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=300, limits=limits) as client:
                await wait_ready(client, server)
                await run_phase(client, "warm-up", max(args.questions), 1, 5, pages)
                for questions in args.questions:
                    idle = await run_phase(client, "questions alone", questions, 0, args.seconds, pages)
                    busy = await run_phase(client, f"with {args.uploaders} uploaders", questions, args.uploaders,
                                           args.seconds, pages)
                    pairs.append((idle.row(questions, 0), busy.row(questions, args.uploaders)))
                alone = await run_phase(client, "uploads alone", 0, args.uploaders, args.seconds, pages)
        finally:
            server.terminate()
            server.wait(timeout=60)
    return pairs, alone.row(0, args.uploaders)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=int, nargs="+", default=[4, 40], help="Question clients, per run.")
    parser.add_argument("--uploaders", type=int, default=10, help="Upload clients.")
    parser.add_argument("--seconds", type=float, default=30, help="Length of each phase.")
    parser.add_argument("--pages", type=Path, default=HTML_ARTICLES, help="Folder of *.html.gz pages to upload.")
    parser.add_argument("--no-write", action="store_true", help="Print only; leave docs/benchmarks.md alone.")
    args = parser.parse_args()

    pairs, alone = asyncio.run(bench(args))
    verdicts = []
    for idle, busy in pairs:
        p95_ratio = busy["p95 ms"] / idle["p95 ms"]
        throughput_ratio = busy["answers/s"] / idle["answers/s"]
        met = p95_ratio <= 3 and throughput_ratio >= 0.5 and busy["uploads/s"] > 0
        verdicts.append(
            f"- {idle['question clients']} question clients with {args.uploaders} uploaders: p95 {p95_ratio:.2f}x "
            f"idle (target <= 3x), answers/s {throughput_ratio:.0%} of idle (target >= 50%), uploads "
            f"{busy['uploads/s']:.2f}/s ({busy['uploads/s'] / alone['uploads/s']:.0%} of their rate alone): "
            f"{'met' if met else 'NOT met'}.")
    table = markdown([row for pair in pairs for row in pair] + [alone])
    verdict = "\n".join(verdicts)
    print(table, "\n\n" + verdict)
    if not args.no_write:
        body = (f"{table}\n\n{verdict}\n\nClosed-loop clients over loopback HTTP against `sift serve` on the "
                "embedded default (sample knowledge base, hybrid retrieval, no reranker); uploads are news pages "
                "from `html_articles`, each a synchronous multipart upload. The load generator runs on the same "
                "cores as the server.")
        write_section("Questions under upload load", body)


if __name__ == "__main__":
    main()
