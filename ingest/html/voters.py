"""The voters: trafilatura's extractors, the one place that imports trafilatura.

trafilatura is pinned exactly in pyproject because ``trafilatura.readability_lxml`` is not part of its
public API; nothing public runs readability on an already parsed tree (the readability-lxml package parses
again and costs ~14 ms a page more for +0.0005 F1, docs/benchmarks.md).
"""

from __future__ import annotations

import copy
import functools

import lxml.html
from lxml import etree


def reference_texts(root: lxml.html.HtmlElement, *, url: str | None = None) -> list[str]:
    """Main text of the page by each voter (the tree is left unchanged)."""
    try:
        import trafilatura
        from trafilatura.readability_lxml import Document
    except ImportError as exc:  # pragma: no cover - trafilatura is a core dependency
        raise ImportError("HTML main-content extraction needs trafilatura: pip install trafilatura") from exc

    def readability(tree: lxml.html.HtmlElement) -> str:
        summary = Document(copy.deepcopy(tree), min_text_length=25).summary()
        return "\n".join(lxml.html.fromstring(summary).itertext()) if summary.strip() else ""

    voters = [
        functools.partial(
            trafilatura.extract, url=url, fast=True, favor_precision=precise, include_comments=False
        )
        for precise in (False, True)
    ]
    texts = []
    for vote in (*voters, readability):
        try:
            texts.append(vote(root) or "")
        except (RecursionError, etree.ParserError, ValueError):  # pathological trees: this voter abstains
            texts.append("")
    return texts

