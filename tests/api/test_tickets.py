"""Ticket suggestions through the real app: a small help centre, realistic tickets, signed webhooks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from api.app import create_app
from api.keys import KeyStore, Scope
from api.service import Sift
from api.settings import WebhookIntegration
from tests.helpsite import FIXTURES

TICKETS = yaml.safe_load(
    (Path(__file__).parents[1] / "fixtures" / "tickets.yaml").read_text(encoding="utf-8"))
PUBLIC = "https://help.acme.example/hc/articles/"
SECRET = "whsec-0123456789abcdef"


@pytest.fixture(scope="module")
def help_centre(sift: Sift) -> str:
    """A collection holding the help centre's articles, each with its public URL."""
    name = "helpcentre-tickets"
    with TestClient(create_app(sift=sift), base_url="http://localhost") as client:
        documents = [{"id": PUBLIC + page.stem, "url": PUBLIC + page.stem, "content_type": "text/html",
                      "content": page.read_text(encoding="utf-8")} for page in sorted(FIXTURES.glob("*.html"))]
        response = client.post(f"/v1/collections/{name}/documents", json={"documents": documents})
        assert response.status_code == 200, response.text
    return name


@pytest.mark.parametrize("ticket", [
    pytest.param(t, id=t["name"], marks=[pytest.mark.xfail(strict=True, reason=t["known_miss"])]
                 if t.get("known_miss") else []) for t in TICKETS])
def test_the_right_article_comes_first(client: TestClient, help_centre: str, ticket: dict) -> None:
    response = client.post("/v1/tickets/suggest", json={"subject": ticket["subject"], "body": ticket["body"],
                                                        "collection": help_centre})
    assert response.status_code == 200, response.text
    body = response.json()
    for kept in ticket["has"]:
        assert kept in body["question"]
    for dropped in ticket["lacks"]:
        assert dropped not in body["question"]
    assert body["articles"][0]["url"] == PUBLIC + ticket["article"]
    assert len({a["doc_id"] for a in body["articles"]}) == len(body["articles"]) == 3  # one per document
    assert body["context"].startswith(f"[1] {body['articles'][0]['title']} — {PUBLIC}{ticket['article']}")


def test_a_long_ticket_is_searched_by_the_sentences_that_ask(client: TestClient, help_centre: str) -> None:
    log = "\n".join(f"2024-06-04 09:{i // 60:02d}:{i % 60:02d} INFO auth user{i}@example.com signed in with "
                    f"password, session email verified in {30 + i % 7} ms." for i in range(400))
    body = (f"Hello,\n\nHere is the full log of last night, as you asked.\n\n{log}\n\n"
            "Why does the CSV export of our big project still fail with error 500?\n\nThanks,\nPriya")
    found = client.post("/v1/tickets/suggest", json={"subject": "Follow-up on case 4411", "body": body,
                                                     "collection": help_centre}).json()
    assert len(found["question"]) > 20_000  # the whole ticket is reported, cut only for the models
    assert found["articles"][0]["url"] == PUBLIC + "export-csv"


def test_answered_follows_min_score(client: TestClient, help_centre: str) -> None:
    ticket = {"subject": "Export", "body": "Our CSV export fails with error 500.", "collection": help_centre}
    best = client.post("/v1/tickets/suggest", json=ticket).json()["articles"][0]["score"]
    at = client.post("/v1/tickets/suggest", json={**ticket, "min_score": best}).json()
    above = client.post("/v1/tickets/suggest", json={**ticket, "min_score": best + 1e-6}).json()
    assert (at["answered"], at["min_score"]) == (True, best)
    assert (above["answered"], above["min_score"]) == (False, best + 1e-6)


def test_several_collections_are_merged(client: TestClient, help_centre: str, collection: str) -> None:
    client.post(f"/v1/collections/{collection}/documents", json={"documents": [{
        "id": "status", "url": "https://status.acme.example/incidents/42", "content_type": "text/plain",
        "content": "Incident 42: CSV exports fail with error 500 since 09:00 UTC. A fix is being deployed."}]})
    body = client.post("/v1/tickets/suggest", json={
        "subject": "Export", "body": "Our CSV export fails with error 500 since this morning.",
        "collections": [help_centre, collection], "top_k": 4}).json()
    assert {a["collection"] for a in body["articles"]} == {help_centre, collection}
    assert {a["url"] for a in body["articles"]} >= {PUBLIC + "export-csv", "https://status.acme.example/incidents/42"}


def test_a_ticket_of_only_quotes_is_refused(client: TestClient, help_centre: str) -> None:
    response = client.post("/v1/tickets/suggest", json={"body": "> On Monday you wrote:\n> hello",
                                                        "collection": help_centre})
    assert response.status_code == 422 and response.json()["error"]["code"] == "empty_document"


# Keys and webhooks

@pytest.fixture()
def keyed(sift: Sift, tmp_path: Path) -> Iterator[tuple[TestClient, KeyStore]]:
    """The app with its own key store holding a key, so keys are required (the shared data dir stays open)."""
    app = create_app(sift=sift)
    app.state.keys.close()
    app.state.keys = KeyStore(tmp_path / "keys.sqlite3")
    with TestClient(app, base_url="http://localhost") as client:
        yield client, app.state.keys


def test_suggest_needs_the_query_scope_on_every_collection(keyed, help_centre: str) -> None:
    client, keys = keyed
    _, secret = keys.create(name="agent", scopes={Scope.QUERY}, collections={help_centre})
    ticket = {"subject": "Export", "body": "The CSV export fails.", "collection": help_centre}
    assert client.post("/v1/tickets/suggest", json=ticket).status_code == 401
    auth = {"Authorization": f"Bearer {secret}"}
    assert client.post("/v1/tickets/suggest", json=ticket, headers=auth).status_code == 200
    other = {**ticket, "collections": ["elsewhere"]}
    assert client.post("/v1/tickets/suggest", json=other, headers=auth).status_code == 403


def sign(body: bytes, *, timestamp: str = "", separator: str = "", encoding: str = "hex") -> str:
    digest = hmac.new(SECRET.encode(), timestamp.encode() + separator.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode() if encoding == "base64" else digest.hex()


@pytest.fixture()
def webhooks(sift: Sift, help_centre: str, monkeypatch: pytest.MonkeyPatch) -> None:
    integrations = {
        "zendesk": WebhookIntegration(secret=SECRET, signature_header="X-Zendesk-Webhook-Signature",
                                      timestamp_header="X-Zendesk-Webhook-Signature-Timestamp", encoding="base64",
                                      collections=[help_centre]),
        "jira": WebhookIntegration(secret=SECRET, signature_header="X-Hub-Signature", timestamp_header=None,
                                   signature_prefix="sha256=", collections=[help_centre],
                                   fields={"subject": "issue.fields.summary", "body": "issue.fields.description"}),
        "relay": WebhookIntegration(secret=SECRET, separator=".", collections=[help_centre]),
    }
    monkeypatch.setattr(sift, "settings", sift.settings.model_copy(update={"webhooks": integrations}))


def test_zendesk_style_webhook(keyed, webhooks) -> None:
    client, keys = keyed
    keys.create(name="someone", scopes={Scope.QUERY})  # keys are required, yet the webhook needs none
    body = json.dumps({"subject": "Re: SSO", "body": "<p>Hi,</p><p>Okta sign-in fails with Invalid SAML "
                       "response since we renewed the certificate.</p><p>Thanks</p>"}).encode()
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    headers = {"X-Zendesk-Webhook-Signature": sign(body, timestamp=stamp, encoding="base64"),
               "X-Zendesk-Webhook-Signature-Timestamp": stamp, "Content-Type": "application/json"}
    response = client.post("/v1/webhooks/tickets/zendesk", content=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["articles"][0]["url"] == PUBLIC + "sso-saml"
    tampered = body.replace(b"Okta", b"Auth0")
    assert client.post("/v1/webhooks/tickets/zendesk", content=tampered, headers=headers).status_code == 401
    old = datetime.fromtimestamp(time.time() - 3600, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    stale = {**headers, "X-Zendesk-Webhook-Signature": sign(body, timestamp=old, encoding="base64"),
             "X-Zendesk-Webhook-Signature-Timestamp": old}
    refused = client.post("/v1/webhooks/tickets/zendesk", content=body, headers=stale)
    assert refused.status_code == 401 and "replay window" in refused.json()["error"]["message"]


def test_jira_style_webhook_with_mapped_fields(client: TestClient, webhooks) -> None:
    description = {"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": "Our nightly job gets 429 Too Many Requests. "},
                                          {"type": "text", "text": "How do we handle it?"}]}]}
    body = json.dumps({"webhookEvent": "jira:issue_created", "issue": {"key": "HELP-7", "fields": {
        "summary": "API limit", "description": description}}}).encode()
    response = client.post("/v1/webhooks/tickets/jira", content=body,
                           headers={"X-Hub-Signature": "sha256=" + sign(body)})
    assert response.status_code == 200, response.text
    assert "429 Too Many Requests" in response.json()["question"]
    assert response.json()["articles"][0]["url"] == PUBLIC + "api-rate-limits"
    assert client.post("/v1/webhooks/tickets/jira", content=body,
                       headers={"X-Hub-Signature": "sha256=" + "0" * 64}).status_code == 401


def test_relay_style_webhook_and_unknown_integrations(client: TestClient, webhooks) -> None:
    body = json.dumps({"subject": "发票", "body": "请问在哪里申请开具增值税专用发票？"}).encode()
    stamp = str(int(time.time()))
    headers = {"X-Sift-Signature": sign(body, timestamp=stamp, separator="."), "X-Sift-Timestamp": stamp}
    response = client.post("/v1/webhooks/tickets/relay", content=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["articles"][0]["url"] == PUBLIC + "invoice-download-zh"
    assert client.post("/v1/webhooks/tickets/relay", content=body,
                       headers={"X-Sift-Signature": headers["X-Sift-Signature"]}).status_code == 401
    assert client.post("/v1/webhooks/tickets/nobody", content=body, headers=headers).status_code == 401
