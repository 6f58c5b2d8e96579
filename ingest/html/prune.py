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
_NAVIGATION_ROLES = frozenset("navigation menu menubar toolbar search".split())
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
    """Remove in place what is never content: scripts, styles, embedded objects, form controls, comments.

    A ``<noscript>`` holding most of the page is unwrapped instead: an element left open inside it
    (``<noscript><div></noscript>``) made the parser put the whole page in it.
    """
    total = len(body.text_content())
    for noscript in list(body.iter("noscript")):
        if len(noscript.text_content()) > total / 2:
            noscript.drop_tag()
    etree.strip_elements(body, *_NEVER_CONTENT, etree.Comment, etree.ProcessingInstruction, with_tail=False)


def prune_boilerplate(
    body: lxml.html.HtmlElement, *, fragment: bool = False
) -> list[tuple[lxml.html.HtmlElement, str]]:
    """Remove page furniture in place: hidden elements, navigation, forms, boilerplate-classed elements.

    Returns the removed elements (detached, with their children) and why each went. In a fragment,
    ``<header>``, ``<footer>``, ``<aside>`` belong to the content (a note, a byline) and stay.
    """
    limit = _MAX_SHARE * len(body.text_content())
    doomed = []
    stack = list(body)
    while stack:
        el = stack.pop()
        reason = "hidden" if _is_hidden(el) else _furniture_reason(el)
        if reason and fragment and el.tag in _PAGE_FURNITURE_TAGS and reason != "hidden":
            reason = None
        if reason and (reason == "hidden" or len(el.text_content()) <= limit):
            doomed.append((el, reason))
        else:
            stack.extend(el)
    for el, _ in doomed:
        el.drop_tree()
    return doomed[::-1]  # in document order


def _is_hidden(el: lxml.html.HtmlElement) -> bool:
    """Never rendered: the ``hidden`` attribute or an inline ``display: none`` / ``visibility: hidden``."""
    if "hidden" in el.attrib:
        return True
    style = el.get("style")
    return bool(style and _HIDDEN_STYLE.search(style))


def _furniture_reason(el: lxml.html.HtmlElement) -> str | None:
    """Why an element is furniture (navigation, page chrome, hidden from assistive technology, a furniture
    class or id), or ``None``."""
    tag = el.tag
    if tag in _FURNITURE_TAGS:
        # an article's own <header> holds its title and lead paragraph, not the site's banner
        if tag == "header" and any(parent.tag in ("article", "main") for parent in el.iterancestors()):
            return None
        return "navigation" if tag in ("nav", "menu") else f"page chrome (<{tag}>)"
    attrib = el.attrib
    if not attrib or tag in _KEEP_TAGS:
        return None
    if attrib.get("aria-hidden") == "true":
        return "hidden (aria-hidden)"
    role = attrib.get("role")
    if role in _FURNITURE_ROLES:
        return "navigation" if role in _NAVIGATION_ROLES else f"page chrome (role={role})"
    names = f"{attrib.get('class', '')} {attrib.get('id', '')}"
    return f"furniture class or id ({' '.join(names.split())})" if _furniture_name(names) else None


def names_furniture(el: lxml.html.HtmlElement) -> bool:
    """Whether an element's class or id has a furniture word (``related-articles``), content words aside."""
    return _furniture_name(f"{el.get('class', '')} {el.get('id', '')}", hinted=True)


@functools.lru_cache(maxsize=4096)
def _furniture_name(names: str, *, hinted: bool = False) -> bool:
    """Whether class and id name furniture (``share-bar``, ``cookieConsent``; not ``has-sidebar``).

    A name that also says content (``article-share``) is not furniture unless ``hinted``.
    """
    if not hinted and _CONTENT_HINT.search(names):
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

