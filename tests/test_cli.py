"""The ``sift`` CLI: in-process when no server runs, over HTTP when one does (the store is single-opener)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO, SAMPLE_KB

SIFT = [sys.executable, "-m", "api.cli"]


def _env(data_dir: Path, port: int) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "SIFT_DATA_DIR": str(data_dir), "SIFT_PORT": str(port),
            "SIFT_RERANK_ENGINE": "none", "SIFT_LOG_LEVEL": "warning"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(SIFT + args, env=env, capture_output=True, text=True, timeout=300, cwd=REPO)


@pytest.mark.slow
def test_ingest_and_query_in_process(tmp_path):
    env = _env(tmp_path / "data", _free_port())
    result = _run(["ingest", str(SAMPLE_KB), "--collection", "help"], env)
    assert result.returncode == 0, result.stderr
    assert "8 documents into 'help' (8 created)" in result.stdout
    assert "ingest: 100%" in result.stderr  # the progress bar

    again = _run(["ingest", str(SAMPLE_KB), "--collection", "help"], env)
    assert "(8 unchanged)" in again.stdout

    result = _run(["query", "how do I reset my password", "--collection", "help", "--json"], env)
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["results"][0]["doc_id"] == "reset-password.html"
    assert body["reranked"] is False


@pytest.mark.slow
def test_cli_uses_the_running_server(tmp_path):
    port = _free_port()
    env = _env(tmp_path / "data", port)
    server = subprocess.Popen(SIFT + ["serve"], env=env, cwd=REPO, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert server.poll() is None, server.stderr.read()
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.5)

        result = _run(["ingest", str(SAMPLE_KB / "billing-refunds.html"), str(SAMPLE_KB / "two-factor-zh.html")], env)
        assert result.returncode == 0, result.stderr
        assert f"via http://127.0.0.1:{port}" in result.stdout

        result = _run(["query", "两步验证 手机丢失"], env)
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("[1] 如何开启两步验证")
        assert "retrieval order" in result.stderr

        listed = httpx.get(f"http://127.0.0.1:{port}/v1/collections/default/documents").json()["documents"]
        assert sorted(d["id"] for d in listed) == ["billing-refunds.html", "two-factor-zh.html"]
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.slow
def test_ingest_gives_urls_from_a_prefix_and_metadata(tmp_path):
    from retrieval.catalog import Catalog

    folder = tmp_path / "kb"
    (folder / "account").mkdir(parents=True)
    (folder / "account" / "reset password.md").write_text("# Reset\n\nChoose Forgot password on the sign-in page.")
    env = _env(tmp_path / "data", _free_port())
    result = _run(["ingest", str(folder), "-c", "help", "--url-prefix", "https://help.example.com/kb",
                   "--metadata", "team=it", "-m", "product=portal"], env)
    assert result.returncode == 0, result.stderr
    catalog = Catalog(tmp_path / "data" / "catalog.sqlite3")
    try:
        document = catalog.document("help", "account/reset password.md")
    finally:
        catalog.close()
    assert document.url == "https://help.example.com/kb/account/reset%20password.md"
    assert document.metadata == {"team": "it", "product": "portal"}
    refused = _run(["ingest", str(folder), "--metadata", "no-equals-sign"], env)
    assert refused.returncode == 2 and "KEY=VALUE" in refused.stderr


def test_bad_paths_are_refused(tmp_path):
    env = _env(tmp_path / "data", _free_port())
    result = _run(["ingest", str(tmp_path / "missing")], env)
    assert result.returncode == 2
    assert "neither a file, a folder nor an http(s) URL" in result.stderr


def test_prompt_module_prints_the_exact_prompt():
    result = subprocess.run([sys.executable, "-m", "rerank.prompt", "--query", "重置密码?", "--document",
                             "def f():\n    return 1", "--instruction", "Find code"],
                            capture_output=True, text=True, cwd=REPO, timeout=60)
    assert result.returncode == 0
    assert result.stdout == (
        "<|im_start|>system\nJudge whether the Document meets the requirements based on the Query and the "
        "Instruct provided. Note that the answer can only be \"yes\" or \"no\".<|im_end|>\n<|im_start|>user\n"
        "<Instruct>: Find code\n<Query>: 重置密码?\n<Document>: def f():\n    return 1<|im_end|>\n"
        "<|im_start|>assistant\n<think>\n\n</think>\n\n"
    )


def test_clean_many_files_into_a_folder(tmp_path):
    import gzip

    page = (SAMPLE_KB / "reset-password.html").read_bytes()
    (tmp_path / "a.html.gz").write_bytes(gzip.compress(page))
    (tmp_path / "b.htm").write_bytes((SAMPLE_KB / "two-factor-zh.html").read_bytes())
    out = tmp_path / "out"
    result = subprocess.run(SIFT + ["clean", str(tmp_path / "a.html.gz"), str(tmp_path / "b.htm"), "--out", str(out)],
                            capture_output=True, text=True, cwd=REPO, timeout=120,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["a.txt", "b.txt"]
    cleaned = (out / "a.txt").read_text(encoding="utf-8")
    assert "1. Open the Acme Cloud sign-in page" in cleaned
    assert "cookies" not in cleaned and "Privacy" not in cleaned and "gtag" not in cleaned
    assert "，" in (out / "b.txt").read_text(encoding="utf-8")  # the author's full-width punctuation is kept

    printed = subprocess.run(SIFT + ["clean", str(SAMPLE_KB / "api-authentication.html")], capture_output=True,
                             text=True, cwd=REPO, timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert "```" in printed.stdout and "def list_projects():\n" in printed.stdout


@pytest.mark.slow
def test_sync_a_help_centre_in_process(tmp_path):
    import shutil

    from tests.helpsite import FIXTURES, HelpSite

    site_dir = tmp_path / "site"
    site_dir.mkdir()
    for slug in ("reset-password", "export-csv"):
        shutil.copy(FIXTURES / f"{slug}.html", site_dir / f"{slug}.html")
    env = {**_env(tmp_path / "data", _free_port()), "SIFT_SYNC_DELAY_S": "0"}
    with HelpSite(site_dir) as site:
        site.write_sitemap([("reset-password", "2024-05-01"), ("export-csv", "2024-05-01"), ("gone", "2024-05-01")])
        result = _run(["sync", f"{site.url}/hc/", "--collection", "help"], env)
        assert result.returncode == 1  # the listed page that 404s is reported, not fatal
        assert "2 created" in result.stdout and f"created    {site.article_url('export-csv')}" in result.stdout
        listed = _run(["sources", "list", "--collection", "help", "--json"], env)
        assert listed.returncode == 0, listed.stderr
        (source,) = json.loads(listed.stdout)
        assert source["url"] == f"{site.url}/hc/" and source["last_run"]["counts"]["created"] == 2


def test_collections_create_list_delete_in_process(tmp_path):
    env = _env(tmp_path / "data", _free_port())
    created = _run(["collections", "create", "help", "--instruction", "Find refunds"], env)
    assert created.returncode == 0, created.stderr
    listed = json.loads(_run(["collections", "list", "--json"], env).stdout)
    assert [(c["name"], c["documents"], c["instruction"]) for c in listed] == [("help", 0, "Find refunds")]
    refused = _run(["collections", "delete", "help"], env)  # no --yes and no terminal: aborted
    assert refused.returncode == 1 and "Aborted" in refused.stderr
    deleted = _run(["collections", "delete", "help", "--yes"], env)
    assert deleted.returncode == 0, deleted.stderr
    assert "deleted collection 'help' (0 documents)" in deleted.stdout


@pytest.mark.slow
def test_collections_and_sources_through_the_running_server(tmp_path):
    from tests.server_process import ServerProcess

    with ServerProcess(tmp_path / "data") as server:
        env = _env(tmp_path / "data", server.port)
        created = _run(["collections", "create", "help"], env)
        assert created.returncode == 0, created.stderr
        again = _run(["collections", "create", "help"], env)
        assert again.returncode == 1 and "error 409" in again.stderr  # the server's refusal, said plainly
        listed = json.loads(_run(["collections", "list", "--json"], env).stdout)
        assert "help" in [c["name"] for c in listed]
        assert json.loads(_run(["sources", "list", "--collection", "help", "--json"], env).stdout) == []
        missing = _run(["sources", "run", "nosuch", "--collection", "help"], env)
        assert missing.returncode == 1 and "error 404" in missing.stderr
        deleted = _run(["collections", "delete", "help", "--yes"], env)
        assert "deleted collection 'help' (0 documents)" in deleted.stdout
