"""Document metadata through the real app: from the page, from the uploader, and updated on every chunk."""

from __future__ import annotations

from tests.conftest import point_count

MARKDOWN = """---
title: Reset your password
url: https://help.example.com/account/reset
tags: [account, security]
product: portal
---
# Forgot your password?

Open the sign-in page and choose "Forgot password". Enter the email address of your account.
"""

HTML = """<!doctype html><html lang="en-GB"><head><title>VPN guide</title>
<link rel="canonical" href="https://help.example.com/vpn">
<meta name="description" content="Connecting to the office VPN from home."></head>
<body><h1>VPN guide</h1><p>Install the client, sign in with your staff number and press Connect.</p></body></html>"""


def _files(client, collection, files: dict[str, str]):
    parts = [("files", (name, text.encode("utf-8"), "application/octet-stream")) for name, text in files.items()]
    return client.post(f"/v1/collections/{collection}/documents", files=parts)


def _search(client, collection, question, filters, top_k=50) -> list[dict]:
    body = {"question": question, "collection": collection, "top_k": top_k, "filters": filters}
    response = client.post("/v1/query", json=body)
    assert response.status_code == 200, response.text
    return response.json()["results"]


def test_front_matter_fills_the_document_and_stays_out_of_the_text(client, collection):
    assert _files(client, collection, {"reset.md": MARKDOWN}).status_code == 200
    document = client.get(f"/v1/collections/{collection}/documents/reset.md").json()
    assert document["title"] == "Reset your password"
    assert document["url"] == "https://help.example.com/account/reset"
    assert document["metadata"] == {"tags": ["account", "security"], "product": "portal"}
    listed = client.get(f"/v1/collections/{collection}/documents").json()["documents"]
    assert listed[0]["metadata"] == document["metadata"]

    results = _search(client, collection, "forgot password", {"metadata.product": "portal"})
    assert results and all(r["doc_id"] == "reset.md" for r in results)
    assert results[0]["url"] == "https://help.example.com/account/reset"
    assert _search(client, collection, "forgot password", {"metadata.tags": "security"})
    for leaked in ("product: portal", "tags:", "---"):
        assert all(leaked not in r["text"] for r in results)


def test_html_head_fills_url_language_and_description(client, collection):
    assert _files(client, collection, {"vpn.html": HTML}).status_code == 200
    document = client.get(f"/v1/collections/{collection}/documents/vpn.html").json()
    assert document["url"] == "https://help.example.com/vpn"
    assert document["language"] == "en-GB"
    assert document["metadata"] == {"description": "Connecting to the office VPN from home."}
    results = _search(client, collection, "VPN client", {"language": "en-GB"})
    assert [r["doc_id"] for r in results] == ["vpn.html"]


def test_a_page_uploaded_under_its_url_keeps_it_as_url(client, collection):
    page = "<html><body><h1>Billing</h1><p>Invoices are sent on the first working day of each month.</p></body></html>"
    part = ("files", ("https://help.example.com/billing", page.encode(), "text/html; charset=utf-8"))
    response = client.post(f"/v1/collections/{collection}/documents", files=[part])  # as `sift ingest URL` sends it
    assert response.status_code == 200, response.text
    document = client.get(f"/v1/collections/{collection}/documents/https://help.example.com/billing").json()
    assert document["url"] == "https://help.example.com/billing"


def test_a_metadata_only_change_updates_every_chunk(client, sift, collection):
    steps = "\n\n".join(f"## Step {i}\n\n" + f"Step {i} of the laptop setup: configure part {i} as shown. " * 12
                        for i in range(1, 9))
    document = {"id": "laptop", "content": f"# Laptop setup\n\n{steps}", "content_type": "text/markdown",
                "metadata": {"team": "desk", "tier": 1, "tags": ["laptop", "onboarding"]}}
    url = f"/v1/collections/{collection}/documents"
    first = client.post(url, json={"documents": [document]}).json()["documents"][0]
    assert first["status"] == "created" and first["chunks"] >= 4

    again = client.post(url, json={"documents": [document]}).json()["documents"][0]
    assert again["status"] == "unchanged"

    retagged = {**document, "metadata": {"team": "field", "tier": 1, "tags": ["laptop", "onboarding"]}}
    second = client.post(url, json={"documents": [retagged]}).json()["documents"][0]
    assert second["status"] == "updated" and second["chunks"] == first["chunks"]

    assert len(_search(client, collection, "laptop setup", {"metadata.team": "field"})) == first["chunks"]
    assert _search(client, collection, "laptop setup", {"metadata.team": "desk"}) == []
    assert len(_search(client, collection, "laptop setup", {"metadata.tags": "onboarding"})) == first["chunks"]
    assert point_count(sift, collection) == first["chunks"]  # the old version's chunks are gone
    stored = client.get(f"{url}/laptop").json()
    assert stored["metadata"] == {"team": "field", "tier": 1, "tags": ["laptop", "onboarding"]}
