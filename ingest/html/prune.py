"""Page furniture removed before rendering: what is never content, hidden elements, navigation, chrome."""

from __future__ import annotations

import functools
import re

import lxml.html
from lxml import etree

_NEVER_CONTENT = (
    "script style noscript template svg math iframe frame frameset object embed applet canvas audio video"
    " map area link meta base button input select textarea option optgroup label datalist legend"
).split()
_FURNITURE_TAGS = frozenset("nav header footer aside menu dialog fieldset form".split())
_PAGE_FURNITURE_TAGS = frozenset("header footer aside menu dialog".split())  # in a fragment: notes, captions
_FURNITURE_ROLES = frozenset(
    "navigation banner contentinfo complementary search dialog alertdialog menu menubar toolbar".split()
)
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_FURNITURE_WORDS = frozenset(
    "cookie cookies consent gdpr ad ads advert adverts advertisement advertising adslot dfp sponsor sponsored"
    " promo promos promotion share shares sharing sharebar social socials related recommended recommendations"
    " breadcrumb breadcrumbs newsletter subscribe subscription signup popup modal comment comments disqus"
    " sidebar skip skiplink navbar menu toolbar pagination pager masthead outbrain taboola".split()
)
_FURNITURE_NAMES = frozenset("sr-only screen-reader-text visually-hidden print-only".split())
_NEGATED = ("has-", "with-", "no-", "non-", "without-", "enable-", "enabled-")
_NAME_PARTS = re.compile(r"[-_]+|(?<=[a-z])(?=[A-Z])")
_CONTENT_HINT = re.compile(r"article|content|body|main|entry|post|story|text|column", re.IGNORECASE)
_KEEP_TAGS = frozenset({"html", "body", "main", "article"})
_MAX_SHARE = 0.3  # furniture by tag, class or attribute, but holding more of the page's text than this: kept


def strip_non_content(body: lxml.html.HtmlElement) -> None:
    """Remove in place what is never content: scripts, styles, embedded objects, form controls, comments."""
    etree.strip_elements(body, *_NEVER_CONTENT, etree.Comment, etree.ProcessingInstruction, with_tail=False)


def prune_boilerplate(body: lxml.html.HtmlElement, *, fragment: bool = False) -> None:
    """Remove page furniture in place: hidden elements, navigation, forms, boilerplate-classed elements.

    In a fragment, ``<header>``, ``<footer>``, ``<aside>`` belong to the content (a note, a byline) and stay.
    """
    limit = _MAX_SHARE * len(body.text_content())
    doomed = []
    stack = list(body)
    while stack:
        el = stack.pop()
        furniture = _is_furniture(el) and not (fragment and el.tag in _PAGE_FURNITURE_TAGS)
        if _is_hidden(el) or (furniture and len(el.text_content()) <= limit):
            doomed.append(el)
        else:
            stack.extend(el)
    for el in doomed:
        el.drop_tree()


def _is_hidden(el: lxml.html.HtmlElement) -> bool:
    """Never rendered: the ``hidden`` attribute or an inline ``display: none`` / ``visibility: hidden``."""
    if "hidden" in el.attrib:
        return True
    style = el.get("style")
    return bool(style and _HIDDEN_STYLE.search(style))


def _is_furniture(el: lxml.html.HtmlElement) -> bool:
    """Navigation, forms, elements hidden from assistive technology, and classes or ids naming furniture."""
    tag = el.tag
    if tag in _FURNITURE_TAGS:
        # an article's own <header> holds its title and lead paragraph, not the site's banner
        return tag != "header" or not any(parent.tag in ("article", "main") for parent in el.iterancestors())
    attrib = el.attrib
    if not attrib or tag in _KEEP_TAGS:
        return False
    if attrib.get("aria-hidden") == "true" or attrib.get("role") in _FURNITURE_ROLES:
        return True
    return _furniture_name(f"{attrib.get('class', '')} {attrib.get('id', '')}")


@functools.lru_cache(maxsize=4096)
def _furniture_name(names: str) -> bool:
    """Whether class and id name furniture (``share-bar``, ``cookieConsent``; not ``has-sidebar``)."""
    if _CONTENT_HINT.search(names):
        return False
    for name in names.split():
        lowered = name.lower()
        if lowered in _FURNITURE_NAMES:
            return True
        if lowered.startswith(_NEGATED):
            continue
        if any(part.lower() in _FURNITURE_WORDS for part in _NAME_PARTS.split(name)):
            return True
    return False

