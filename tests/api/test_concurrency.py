"""32 clients at once against a real server process: questions, uploads, deletes and racing updates.

What must hold: no 5xx; every acknowledged upload listed and findable, every acknowledged delete
gone; a document never shows two versions at once (its chunks, or the results of one question);
and questions keep their latency while the writes run (issue 11's bound: p95 at most 3x idle).
"""

from __future__ import annotations

import asyncio
import re
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx
import pytest

from tests.server_process import ServerProcess

pytestmark = pytest.mark.slow

QUESTION_CLIENTS, UPLOADERS, UPDATERS, DELETERS, READERS = 16, 6, 4, 3, 3  # 32 in all
SECONDS = 20
VERSION = re.compile(r"\bversion (v\d+x\d+)\b")
QUESTIONS = ["How do I reset my password?", "export all my data", "如何开启两步验证？", "refund policy",
             "team members permissions"]


def word(number: int) -> str:
    """A made-up word no other document holds (letters only, so it stays one lexical token)."""
    letters = ""
    while True:
        number, digit = divmod(number, 26)
        letters += "abcdefghijklmnopqrstuvwxyz"[digit]
        if number == 0:
            return "zq" + letters + "xv"


@dataclass
class Seen:
    statuses: Counter = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    uploaded: dict[str, str] = field(default_factory=dict)  # doc id -> its made-up word
    deleted: set[str] = field(default_factory=set)
    mixed_versions: list[str] = field(default_factory=list)

    def record(self, response: httpx.Response) -> httpx.Response:
        self.statuses[response.status_code] += 1
        return response


def _shared(version: str) -> dict:
    """The document every updater rewrites: every paragraph names its version."""
    paragraphs = [f"Shared runbook version {version}, part {i}: restart the worker and check the queue."
                  for i in range(24)]
    return {"id": "shared", "title": f"Runbook {version}", "content": "\n\n".join(paragraphs)}


def _versions(texts: list[str]) -> set[str]:
    return {match for text in texts for match in VERSION.findall(text)}


async def ask(client: httpx.AsyncClient, seen: Seen, offset: int, stop: float) -> None:
    turn = offset
    while time.monotonic() < stop:
        question = QUESTIONS[turn % len(QUESTIONS)] if turn % 3 else "restart the worker queue runbook"
        turn += 1
        started = time.perf_counter()
        response = seen.record(await client.post("/v1/query", json={"question": question, "collection": "kb"}))
        if response.status_code == 200:
            seen.latencies.append(time.perf_counter() - started)
            shared = [r["text"] for r in response.json()["results"] if r["doc_id"] == "shared"]
            if len(_versions(shared)) > 1:
                seen.mixed_versions.append(f"query: {_versions(shared)}")


async def upload(client: httpx.AsyncClient, seen: Seen, uploader: int, stop: float) -> None:
    number = 0
    while time.monotonic() < stop:
        doc_id, made_up = f"u{uploader}-{number}", word(uploader * 1000 + number)
        number += 1
        content = f"Notes on {made_up}.\n\n" + " ".join(f"Line {i} about the {made_up} procedure." for i in range(40))
        response = seen.record(await client.post("/v1/collections/kb/documents",
                                                 json={"documents": [{"id": doc_id, "content": content}]}))
        if response.status_code == 200:
            seen.uploaded[doc_id] = made_up


async def update(client: httpx.AsyncClient, seen: Seen, updater: int, stop: float) -> None:
    number = 0
    while time.monotonic() < stop:
        seen.record(await client.post("/v1/collections/kb/documents",
                                      json={"documents": [_shared(f"v{updater}x{number}")]}))
        number += 1


async def upload_then_delete(client: httpx.AsyncClient, seen: Seen, deleter: int, stop: float) -> None:
    number = 0
    while time.monotonic() < stop:
        doc_id = f"d{deleter}-{number}"
        number += 1
        created = seen.record(await client.post("/v1/collections/kb/documents", json={"documents": [
            {"id": doc_id, "content": f"Temporary page {doc_id} about {word(90_000 + deleter * 1000 + number)}."}]}))
        if created.status_code == 200 and seen.record(
                await client.delete(f"/v1/collections/kb/documents/{doc_id}")).status_code == 204:
            seen.deleted.add(doc_id)


async def read_shared(client: httpx.AsyncClient, seen: Seen, stop: float) -> None:
    while time.monotonic() < stop:
        response = seen.record(await client.get("/v1/collections/kb/documents/shared/chunks"))
        if response.status_code == 200:
            body = response.json()
            texts = [chunk["text"] for chunk in body["chunks"]]
            if len(_versions(texts)) != 1 or len(texts) != body["document"]["chunks"]:
                seen.mixed_versions.append(f"chunks: {_versions(texts)}, {len(texts)}/{body['document']['chunks']}")
        await asyncio.sleep(0.05)


def _p95(latencies: list[float]) -> float:
    return statistics.quantiles(latencies, n=20)[-1]


async def _run(url: str) -> tuple[Seen, Seen]:
    limits = httpx.Limits(max_connections=40)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        assert (await client.post("/v1/collections/kb/documents", json={"documents": [_shared("v0x0")]})
                ).status_code == 200
        warm = Seen()
        await asyncio.gather(*(ask(client, warm, i, time.monotonic() + 3) for i in range(QUESTION_CLIENTS)))
        idle = Seen()
        await asyncio.gather(*(ask(client, idle, i, time.monotonic() + 8) for i in range(QUESTION_CLIENTS)))
        busy = Seen()
        stop = time.monotonic() + SECONDS
        await asyncio.gather(
            *(ask(client, busy, i, stop) for i in range(QUESTION_CLIENTS)),
            *(upload(client, busy, i, stop) for i in range(UPLOADERS)),
            *(update(client, busy, i, stop) for i in range(UPDATERS)),
            *(upload_then_delete(client, busy, i, stop) for i in range(DELETERS)),
            *(read_shared(client, busy, stop) for _ in range(READERS)),
        )
        listed = {d["id"] for d in (await client.get("/v1/collections/kb/documents")).json()["documents"]}
        assert set(busy.uploaded) <= listed
        assert not busy.deleted & listed
        for doc_id, made_up in busy.uploaded.items():
            # Lexical: this checks that the write is searchable, not how hybrid ranks a made-up word.
            answer = (await client.post("/v1/query", json={"question": made_up, "collection": "kb",
                                                           "mode": "lexical", "top_k": 3})).json()
            assert doc_id in [r["doc_id"] for r in answer["results"]], (made_up, answer["results"])
    return idle, busy


def test_32_clients_mixing_questions_uploads_deletes_and_racing_updates(tmp_path):
    with ServerProcess(tmp_path / "data", SIFT_MAX_CONCURRENT_UPLOADS="0") as server:
        idle, busy = asyncio.run(_run(server.url))
    assert not [s for s in busy.statuses if s >= 500], busy.statuses
    assert set(busy.statuses) <= {200, 204}, busy.statuses
    assert not busy.mixed_versions, busy.mixed_versions[:5]
    assert len(busy.uploaded) >= UPLOADERS and len(busy.deleted) >= DELETERS  # the writes made progress
    assert _p95(busy.latencies) <= 3 * _p95(idle.latencies), (_p95(idle.latencies), _p95(busy.latencies))
