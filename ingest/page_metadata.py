"""What a page says about itself: Markdown front matter, and an HTML head's canonical URL, language and
description. These fill a document's title, url, language and metadata; they never become its text."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

TITLE_KEYS = ("title",)
URL_KEYS = ("url", "canonical_url")
LANGUAGE_KEYS = ("lang", "language")
_BODY = re.compile(r"<body[\s>]", re.IGNORECASE)
_ABSOLUTE = ("http://", "https://")
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@dataclass(frozen=True, slots=True)
class PageMetadata:
    """What a page declares about itself; ``None`` or empty where it declares nothing."""

    title: str | None = None
    url: str | None = None
    language: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


def split_front_matter(text: str) -> tuple[PageMetadata, str]:
    """(front matter, body) of a Markdown text; a text without a front matter mapping comes back whole.

    YAML (``---``) and JSON front matter are read with python-frontmatter; ``title``, ``url`` and
    ``lang``/``language`` become the page's own fields, every other key its metadata.
    """
    import frontmatter
    import yaml

    try:
        found, body = frontmatter.parse(text)
    except (yaml.YAMLError, ValueError):
        return PageMetadata(), text  # not front matter after all (e.g. a rule, then prose): keep every line
    if not found:
        # a block between rules that is not a mapping is prose: keep it
        return PageMetadata(), text
    fields = json_safe(found)
    title, url, language = (_pop_first(fields, keys) for keys in (TITLE_KEYS, URL_KEYS, LANGUAGE_KEYS))
    return PageMetadata(title=title, url=url, language=language, metadata=fields), body


def html_metadata(html: str) -> PageMetadata:
    """The canonical URL (``<link rel=canonical>``, else ``og:url``), ``<html lang>`` and the description
    (``<meta name=description>``, else ``og:description``) of an HTML page; only its head is parsed."""
    import lxml.html
    from lxml import etree

    body = _BODY.search(html)
    head = html[: body.start()] if body else html
    if not head.strip():
        return PageMetadata()
    try:
        root = lxml.html.document_fromstring(head)
    except (etree.ParserError, ValueError):
        return PageMetadata()
    links = {rel: link.get("href", "").strip() for link in root.iter("link")
             for rel in (link.get("rel") or "").lower().split()}
    metas = {(meta.get("name") or meta.get("property") or meta.get("http-equiv") or "").lower():
             (meta.get("content") or "").strip() for meta in reversed(list(root.iter("meta")))}
    url = next((u for u in (links.get("canonical"), metas.get("og:url")) if u and u.startswith(_ABSOLUTE)), None)
    language = root.get("lang") or root.get(_XML_LANG) or metas.get("content-language") or ""
    description = metas.get("description") or metas.get("og:description")
    return PageMetadata(url=url, language=language.strip().replace("_", "-") or None,
                        metadata={"description": description} if description else {})


def json_safe(values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` as JSON types (dates as ISO text, anything else as its string), ``None`` values dropped."""
    return {str(k): v for k, v in json.loads(json.dumps(dict(values), default=_iso, ensure_ascii=False)).items()
            if v is not None}


def _iso(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _pop_first(fields: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    """The first of ``keys`` with a text value, removed from ``fields`` (all of ``keys`` are removed)."""
    found = None
    for key in keys:
        value = fields.pop(key, None)
        if found is None and isinstance(value, (str, int, float)) and str(value).strip():
            found = str(value).strip()
    return found
