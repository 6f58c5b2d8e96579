"""`sift query` and `sift eval`: questions, one at a time or a BEIR dataset's worth."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from tqdm import tqdm

from api.cli.base import app, configure_logging, fail, running_server, server_client
from api.settings import get_settings


@app.command()
def query(
    question: Annotated[str, typer.Argument(help="The question.")],
    collection: Annotated[str, typer.Option("--collection", "-c")] = "default",
    top_k: Annotated[int, typer.Option("--top-k", "-k", min=1, max=100)] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole response as JSON.")] = False,
) -> None:
    """Ask a question; prints the cited answer context."""
    settings = get_settings()
    configure_logging(settings)
    body = {"question": question, "collection": collection, "top_k": top_k}
    server = running_server(settings)
    if server:
        from api.client import SiftAPIError

        with server_client(settings, timeout=120.0) as client:
            try:
                payload = client.query(question, collection=collection, top_k=top_k).model_dump()
            except SiftAPIError as exc:
                raise typer.Exit(fail(exc)) from None
    else:
        from api.schemas import QueryIn, QueryOut
        from api.service import Sift

        request = QueryIn(**body)
        sift = Sift(settings)
        sift.start()
        try:
            answer = asyncio.run(sift.answer(request.question, collection=request.collection, top_k=request.top_k))
        finally:
            asyncio.run(sift.close())
        payload = QueryOut.from_answer(answer).model_dump()
    if as_json:
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    if not payload["reranked"]:
        typer.echo(f"(retrieval order: {payload.get('rerank_error') or 'not reranked'})", err=True)
    typer.echo(payload["context"])


@app.command("eval")
def eval_dataset(
    dataset: Annotated[Path, typer.Argument(help="BEIR folder: corpus.jsonl, queries.jsonl, qrels/test.tsv.")],
    mode: Annotated[str, typer.Option(help="dense, lexical, hybrid or all.")] = "all",
    rerank: Annotated[bool, typer.Option("--rerank", help="Also rerank each mode's candidates.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print {mode: metrics} as JSON.")] = False,
) -> None:
    """Measure nDCG@10, Recall@50, MRR@10 and latency on a BEIR dataset through the real pipeline."""
    from api.evaluation import evaluate, format_table, load_beir
    from retrieval.index import SEARCH_MODES

    modes = SEARCH_MODES if mode == "all" else (mode,)
    if any(m not in SEARCH_MODES for m in modes):
        raise typer.BadParameter(f"--mode must be dense, lexical, hybrid or all, not {mode!r}")
    try:
        data = load_beir(dataset)
    except FileNotFoundError as exc:
        raise typer.BadParameter(str(exc)) from None
    settings = get_settings()
    configure_logging(settings.model_copy(update={"log_level": "warning"}))
    bars: dict[str, tqdm] = {}

    def progress(label: str, done: int, total: int) -> None:
        bar = bars.setdefault(label, tqdm(total=total, desc=label, unit="q" if label != "ingest" else "doc",
                                          file=sys.stderr, leave=False))
        bar.update(done - bar.n)

    results = evaluate(settings, data, modes=modes, rerank=rerank, progress=progress)
    for bar in bars.values():
        bar.close()
    if as_json:
        typer.echo(json.dumps({m: {k: v for k, v in r.items() if k != "queries"} for m, r in results.items()}))
    else:
        typer.echo(f"{data.name}: {len(data.corpus)} documents, {len(data.queries)} queries")
        typer.echo(format_table(data.name, results))
