"""A page that loses much of its structure in cleaning says so: upload result, job report and CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import REPO, SAMPLE_KB, upload_files

WIDGET_PAGE = REPO / "tests" / "ingest" / "fixtures" / "printers_widget.html"
WARNING = "dropped 4 of 4 list items outside navigation as not main content"


def test_the_upload_result_carries_the_warning(client, collection):
    response = upload_files(client, collection, [WIDGET_PAGE, SAMPLE_KB / "reset-password.html"])
    assert response.status_code == 200, response.text
    widget, clean = response.json()["documents"]
    assert len(widget["warnings"]) == 1 and widget["warnings"][0].startswith(WARNING)
    assert clean["warnings"] == []

    again = upload_files(client, collection, [WIDGET_PAGE]).json()["documents"][0]
    assert again["status"] == "unchanged" and again["warnings"] == widget["warnings"]


def test_the_job_report_carries_the_warning_per_file(client, collection):
    pages = (WIDGET_PAGE, SAMPLE_KB / "reset-password.html")
    files = [("files", (p.name, p.read_bytes(), "text/html")) for p in pages]
    accepted = client.post(f"/v1/collections/{collection}/documents?async=true", files=files).json()
    deadline = time.monotonic() + 120
    while (job := client.get(f"/v1/jobs/{accepted['job_id']}").json())["state"] not in ("done", "failed"):
        assert time.monotonic() < deadline, job
        time.sleep(0.2)
    warnings = {d["id"]: d["warnings"] for d in job["documents"]}
    assert warnings["reset-password.html"] == []
    assert len(warnings["printers_widget.html"]) == 1 and warnings["printers_widget.html"][0].startswith(WARNING)


def _sift(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "api.cli", *args], capture_output=True, text=True, cwd=REPO,
                          timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})


def test_sift_clean_prints_the_warning_and_explains_each_dropped_block(tmp_path: Path):
    cleaned = _sift("clean", str(WIDGET_PAGE))
    assert cleaned.returncode == 0, cleaned.stderr
    assert "Ask the front desk" in cleaned.stdout and "Open Settings" not in cleaned.stdout
    assert f"printers_widget.html: warning: {WARNING}" in cleaned.stderr

    explained = _sift("clean", "--explain", str(WIDGET_PAGE))
    assert explained.returncode == 0, explained.stderr
    lines = explained.stdout.splitlines()
    assert lines[0] == "printers_widget.html: 7 blocks left out"
    assert "  [navigation] paragraph: Home Help" in lines
    assert "  [page chrome (<footer>)] paragraph: © Example" in lines
    assert "  [voted out (not main content)] heading: ### Add a printer on Windows" in lines
    assert "  [voted out (not main content)] list item: 4. Print a test page." in lines
    assert lines[-1].startswith(f"  warning: {WARNING}")

    markdown = tmp_path / "notes.md"
    markdown.write_text("# Notes\n\nNothing to drop.\n", encoding="utf-8")
    assert _sift("clean", "--explain", str(markdown)).stdout.strip() == (
        "notes.md: not HTML; nothing is left out of Markdown or text"
    )
