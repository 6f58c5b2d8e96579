"""Help-centre sync through the real app against a real HTTP server on loopback (api/sync.py, routes/sources)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.service import Sift
from api.sync_store import SyncStore
from tests.helpsite import FIXTURES, HelpSite

ARTICLES = ["reset-password", "two-factor-sms", "duplicate-charge-refund", "export-csv", "sso-saml",
            "delete-account-zh"]


@pytest.fixture()
def fast_sync(sift: Sift, monkeypatch: pytest.MonkeyPatch) -> None:
    """No politeness delay against our own loopback server."""
    monkeypatch.setattr(sift.sync, "settings", sift.settings.model_copy(update={"sync_delay_s": 0.0}))


@pytest.fixture()
def site(tmp_path: Path):
    for slug in ARTICLES:
        shutil.copy(FIXTURES / f"{slug}.html", tmp_path / f"{slug}.html")
    with HelpSite(tmp_path) as served:
        served.write_robots(f"User-agent: *\nDisallow: /hc/articles/delete-account-zh\n"
                            f"Sitemap: {served.url}/sitemap.xml\n")
        yield served


def wait_run(client: TestClient, collection: str, source_id: str, run_id: str) -> dict:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        run = client.get(f"/v1/collections/{collection}/sources/{source_id}/runs/{run_id}").json()
        if run["state"] in ("done", "failed"):
            return run
        time.sleep(0.2)
    raise AssertionError(f"sync run {run_id} did not finish: {run}")


def run_now(client: TestClient, collection: str, source_id: str) -> dict:
    response = client.post(f"/v1/collections/{collection}/sources/{source_id}/runs")
    assert response.status_code == 202, response.text
    return wait_run(client, collection, source_id, response.json()["run_id"])


def documents(client: TestClient, collection: str) -> dict[str, dict]:
    return {d["id"]: d for d in client.get(f"/v1/collections/{collection}/documents").json()["documents"]}


def changes(run: dict) -> dict[str, str]:
    return {c["url"].rsplit("/", 1)[1]: c["status"] for c in run["changes"]}


def test_sync_follows_the_help_centre(client: TestClient, collection: str, site: HelpSite, fast_sync) -> None:
    listed = [(slug, "2024-05-01") for slug in ARTICLES] + [("old-reset", "2024-05-01")]
    site.redirects["/hc/articles/old-reset"] = "/hc/articles/reset-password"  # one article, two URLs
    site.write_sitemap(listed)
    created = client.post(f"/v1/collections/{collection}/sources",
                          json={"url": f"{site.url}/hc/", "include": ["/hc/articles/*"], "interval": "1d"})
    assert created.status_code == 201, created.text
    source = created.json()
    assert source["interval_s"] == 86400 and source["last_run"]["state"] in ("queued", "running", "done")

    first = wait_run(client, collection, source["id"], source["last_run"]["id"])
    assert first["state"] == "done" and first["via"] == "sitemap", first
    assert first["counts"]["created"] == 5 and first["counts"]["disallowed"] == 1 and first["counts"]["failed"] == 0
    assert changes(first)["delete-account-zh"] == "disallowed"
    assert not any(path.endswith("delete-account-zh") for path, _ in site.requests)  # robots.txt honoured
    docs = documents(client, collection)
    assert set(docs) == {site.article_url(s) for s in ARTICLES[:5]}  # old-reset is reset-password
    assert all(d["url"] == d["id"] for d in docs.values())  # citations link to the help centre
    before = {doc_id: d["content_hash"] for doc_id, d in docs.items()}

    # Edit one page, delete one, add one, and touch one's Last-Modified without changing its content.
    edited = site.root / "export-csv.html"
    edited.write_text(edited.read_text().replace("50,000 tasks", "20,000 tasks"))
    (site.root / "sso-saml.html").unlink()
    shutil.copy(FIXTURES / "api-rate-limits.html", site.root / "api-rate-limits.html")
    site.last_modified["/hc/articles/two-factor-sms"] = time.time() + 60
    dated = {"export-csv": "2024-06-01", "two-factor-sms": "2024-06-01", "sso-saml": "2024-06-01"}
    site.write_sitemap([(slug, dated.get(slug, lastmod)) for slug, lastmod in listed]
                       + [("api-rate-limits", "2024-06-01")])
    site.requests.clear()

    second = run_now(client, collection, source["id"])
    assert second["state"] == "done", second
    assert changes(second) == {"export-csv": "updated", "sso-saml": "deleted", "api-rate-limits": "created",
                               "delete-account-zh": "disallowed"}
    assert second["counts"] == {"created": 1, "updated": 1, "unchanged": 4, "deleted": 1, "missing": 0,
                                "disallowed": 1, "failed": 0}
    fetched = {path.rsplit("/", 1)[1]: condition for path, condition in site.requests if "/articles/" in path}
    assert "reset-password" not in fetched  # same sitemap lastmod: not even fetched
    assert fetched["two-factor-sms"]  # asked conditionally, and its content hash was unchanged
    docs = documents(client, collection)
    assert site.article_url("sso-saml") not in docs and site.article_url("api-rate-limits") in docs
    assert docs[site.article_url("export-csv")]["content_hash"] != before[site.article_url("export-csv")]
    assert docs[site.article_url("two-factor-sms")]["content_hash"] == before[site.article_url("two-factor-sms")]

    # A server error mid-sync leaves the failed page's document as it was; a page gone from the sitemap
    # is kept the first time and deleted the second.
    edited.write_text(edited.read_text().replace("20,000 tasks", "10,000 tasks"))
    site.failing.add("/hc/articles/export-csv")
    third_listing = [(s, "2024-07-01" if s == "export-csv" else m) for s, m in listed
                     if s not in ("sso-saml", "duplicate-charge-refund")] + [("api-rate-limits", "2024-06-01")]
    site.write_sitemap(third_listing)
    third = run_now(client, collection, source["id"])
    assert third["state"] == "done"
    assert [e["url"] for e in third["errors"]] == [site.article_url("export-csv")]
    assert "HTTP 500" in third["errors"][0]["error"]
    assert changes(third) == {"duplicate-charge-refund": "missing", "delete-account-zh": "disallowed"}
    docs_after_error = documents(client, collection)
    assert docs_after_error[site.article_url("export-csv")]["content_hash"] == \
        docs[site.article_url("export-csv")]["content_hash"]
    assert site.article_url("duplicate-charge-refund") in docs_after_error

    site.failing.clear()
    fourth = run_now(client, collection, source["id"])
    assert changes(fourth) == {"export-csv": "updated", "duplicate-charge-refund": "deleted",
                               "delete-account-zh": "disallowed"}
    assert site.article_url("duplicate-charge-refund") not in documents(client, collection)

    # The source, its last run and its counts are listed; removing it can remove its documents too.
    listing = client.get(f"/v1/collections/{collection}/sources").json()["sources"]
    assert [s["last_run"]["id"] for s in listing] == [fourth["id"]]
    assert client.delete(f"/v1/collections/{collection}/sources/{source['id']}",
                         params={"delete_documents": "true"}).status_code == 204
    assert documents(client, collection) == {}
    assert client.get(f"/v1/collections/{collection}/sources/{source['id']}").status_code == 404


def test_synced_articles_answer_queries_with_their_public_url(client: TestClient, collection: str, site: HelpSite,
                                                             fast_sync) -> None:
    site.write_sitemap([(slug, "2024-05-01") for slug in ARTICLES])
    source = client.post(f"/v1/collections/{collection}/sources", json={"url": f"{site.url}/hc/"}).json()
    assert wait_run(client, collection, source["id"], source["last_run"]["id"])["counts"]["created"] == 5
    answer = client.post("/v1/query", json={"question": "How do I handle an Invalid SAML response error?",
                                            "collection": collection, "top_k": 1}).json()
    assert answer["results"][0]["url"] == site.article_url("sso-saml")
    assert site.article_url("sso-saml") in answer["context"]


def test_a_site_that_cannot_be_reached_fails_the_run_and_deletes_nothing(client: TestClient, collection: str,
                                                                         tmp_path: Path, fast_sync) -> None:
    with HelpSite(tmp_path) as gone:
        url = f"{gone.url}/hc/"
    source = client.post(f"/v1/collections/{collection}/sources", json={"url": url}).json()
    run = wait_run(client, collection, source["id"], source["last_run"]["id"])
    assert run["state"] == "failed" and "no pages found" in run["error"]


def test_schedules_and_interrupted_runs_survive_a_restart(tmp_path: Path) -> None:
    store = SyncStore(tmp_path / "sync.sqlite3")
    source = store.add_source("help", "http://127.0.0.1:9/hc/", include=[], exclude=[], max_pages=10,
                              interval_s=3600)
    interrupted = store.create_run(source.id, "manual")
    assert store.claim_next() == (interrupted, source.id)
    store.record(interrupted, "http://127.0.0.1:9/hc/a", "created")
    store.close()

    reopened = SyncStore(tmp_path / "sync.sqlite3")
    assert reopened.requeue_interrupted() == 1
    assert reopened.run(interrupted)["state"] == "queued" and reopened.run(interrupted)["changes"] == []
    assert reopened.schedule_due(time.time()) == []  # not due yet, and a run is already waiting
    assert reopened.claim_next() == (interrupted, source.id)
    reopened.finish(interrupted)
    due = reopened.schedule_due(source.next_run_at + 1)
    assert len(due) == 1 and reopened.run(due[0])["trigger"] == "schedule"
    assert reopened.sources()[0].next_run_at == pytest.approx(source.next_run_at + 1 + 3600)
    reopened.close()


def test_a_site_larger_than_one_write_batch(client: TestClient, collection: str, tmp_path: Path, fast_sync) -> None:
    topics = ["invoices", "exports", "passwords", "webhooks", "members", "projects", "labels", "reports"]
    for i in range(40):
        topic = topics[i % len(topics)]
        (tmp_path / f"a{i}.html").write_text(
            f"<html><head><title>Article {i} about {topic}</title></head><body><main><h1>Article {i}</h1>"
            f"<p>How to manage {topic} in workspace number {i}: open the settings page and choose {topic}.</p>"
            "</main></body></html>")
    with HelpSite(tmp_path) as site:
        site.redirects["/hc/articles/first-again"] = "/hc/articles/a0"  # after the first batch was written
        site.write_sitemap([(f"a{i}", "2024-05-01") for i in range(40)] + [("first-again", "2024-05-01")])
        source = client.post(f"/v1/collections/{collection}/sources", json={"url": f"{site.url}/hc/"}).json()
        run = wait_run(client, collection, source["id"], source["last_run"]["id"])
    assert run["counts"]["created"] == 40 and run["counts"]["unchanged"] == 1, run["counts"]
    assert run["pages_done"] == run["pages_total"] == 41
    assert len(documents(client, collection)) == 40
