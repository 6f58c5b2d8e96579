"""From a helpdesk ticket (subject and an e-mail thread, as text or HTML) to the question to search with.

The customer's latest message is what matters: quoted history, reply headers, signatures, disclaimers,
greetings and sign-offs are noise that pulls retrieval towards earlier, already-answered questions.
HTML mail loses its quote blocks (Gmail ``gmail_quote``, Outlook ``divRplyFwdMsg``, ``blockquote``, …)
before it becomes text; the text is split into replies by mail-parser-reply (reply headers in many
languages, signatures and disclaimers) and then cut further with the rules it lacks (Chinese client
headers, Outlook rules, ``>`` quotes, mobile signatures, greetings and sign-offs in English and Chinese).
All functions are pure.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import lxml.html
from lxml import etree
from mailparser_reply import EmailReplyParser
from mailparser_reply.constants import MAIL_LANGUAGES

ALWAYS_LANGUAGES = ("en", "zh")

_HTML = re.compile(r"<(?:html|body|div|p|br|blockquote|table|span|font)\b", re.I)
_BLOCK_TAGS = {"p", "div", "br", "li", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre",
               "hr", "ul", "ol", "section", "article", "header", "footer"}
# Quoted history and signatures in HTML mail, by the markers Gmail, Outlook, Apple Mail, Thunderbird,
# Yahoo, QQ and NetEase mail put on them.
_QUOTE_XPATH = (
    "//blockquote | //div[contains(concat(' ', normalize-space(@class), ' '), ' gmail_quote ')]"
    " | //div[contains(@class, 'gmail_signature')] | //div[@class='moz-cite-prefix']"
    " | //div[contains(@class, 'yahoo_quoted')] | //div[@id='Signature'] | //div[@id='ms-outlook-mobile-signature']"
    " | //div[@class='OutlookMessageHeader'] | //div[@id='isForwardContent'] | //div[@id='isReplyContent']"
    " | //div[contains(@class, 'ntes-mailmaster-quote')] | //style | //script | //head"
)
# Everything after these belongs to the quoted message (Outlook puts the original after its header block).
_CUT_AFTER_XPATH = "//div[@id='divRplyFwdMsg'] | //div[@id='appendonsend'] | //hr[@id='stopSpelling']"

_SEPARATOR = re.compile(
    r"^\s*(?:[-_=*]{2,}\s*(?:original message|forwarded message|原始邮件|转发邮件|原邮件|邮件原件|回复的原邮件)"
    r"|-{5,}\s*(?:original|forwarded)|_{10,}\s*$|={10,}\s*$)", re.I)
_WROTE = re.compile(r"(?:^on\b.{0,300}\bwrote\s*:\s*$|^在.{0,300}写道\s*[:：]\s*$|^.{0,300}于.{0,100}写道\s*[:：]\s*$)",
                    re.I)
_HEADER_START = re.compile(r"^\s*\**(?:from|发件人|寄件者|發件人)\s*\**\s*[:：]", re.I)
_HEADER_FIELD = re.compile(r"^\s*\**(?:sent|date|to|cc|subject|发送时间|发送日期|时间|日期|收件人|抄送|主题|"
                           r"主旨|寄件日期)\s*\**\s*[:：]", re.I)
_MOBILE = re.compile(
    r"^\s*(?:sent from (?:my |mail for |outlook|yahoo)|get outlook for|sent via |发自我的|从我的.{0,20}发送|"
    r"发自(?:网易邮箱|QQ邮箱|手机|Outlook)|来自.{0,12}(?:邮箱|客户端))", re.I)
_SIGN_OFF = re.compile(
    r"^\s*(?:(?:best|kind|warm|many)?\s*(?:regards|wishes)|best|cheers|sincerely|yours(?: sincerely| truly)?|"
    r"thanks?(?: you)?(?: (?:so much|very much|in advance|again))?|many thanks|thx|br|"
    r"谢谢(?:您|你)?|多谢|非常感谢|感谢(?:您|你)?|此致|敬礼|祝好|顺祝(?:商祺|安好)?|祝(?:工作)?顺利|盼复|期待(?:您的)?回复)"
    r"\s*[,.!~。！，、…]*\s*$", re.I)
_GREETING = re.compile(
    r"^\s*(?:(?:hi|hello|hey|dear|good (?:morning|afternoon|evening)|greetings)\b[^\n]{0,40}?|"
    r"(?:尊敬的)?[^\n]{0,12}?(?:您好|你好|早上好|下午好|晚上好)|尊敬的[^\n]{0,20})\s*[,.!:;，。！：；]*\s*$", re.I)
_DISCLAIMER = re.compile(
    r"(?:confidential|privileged).{0,200}(?:intended|recipient|addressee)|(?:intended|recipient).{0,200}"
    r"(?:confidential|privileged)|免责声明|(?:本邮件|此邮件|该邮件).{0,60}(?:保密|机密|仅供)", re.I | re.S)
_INLINE_GREETING = re.compile(r"^\s*(?:您好|你好|hi|hello|dear\s[^,，\n]{1,30})\s*[,，!！]\s*(?=\S)", re.I)
_PLACEHOLDER = re.compile(r"\[(?:cid|image|inline image)[^\]]*\]", re.I)
_SUBJECT_PREFIX = re.compile(r"^\s*(?:(?:re|fw|fwd|aw|sv|wg|答复|回复|转发|回覆|轉寄)\s*(?:\[\d+\])?\s*[:：]\s*|"
                             r"\[(?:ticket\s*)?#?\s*\d+\]\s*|\[external\]\s*)", re.I)
_SENTENCE = re.compile(r"[^.!?。！？\n]+[.!?。！？]*|\n", re.S)
_QUESTION_MARK = re.compile(r"[?？]")
_FOCUS_WORDS = re.compile(
    r"\b(?:how|why|what|where|when|can(?:not|'t)?|could|unable|error|fail\w*|broken|issue|problem|not work\w*|"
    r"doesn't|does not|won't|refund|reset)\b|"
    r"无法|不能|不了|失败|错误|报错|怎么|如何|为什么|为何|能否|是否|问题|异常|收不到",
    re.I)


@dataclass(frozen=True, slots=True)
class TicketQuestion:
    """The question built from a ticket: the cleaned subject, the latest message, and both together."""

    subject: str
    message: str
    question: str


def build_question(subject: str, body: str, *, language: str | None = None) -> TicketQuestion:
    """The subject and the customer's latest message, without quotes, signatures, greetings or HTML."""
    clean_subject = clean_subject_line(subject)
    message = latest_message(html_to_text(body) if is_html(body) else body, language=language)
    if clean_subject and clean_subject.casefold() not in message.casefold():
        question = f"{clean_subject}\n{message}".strip()
    else:
        question = message or clean_subject
    return TicketQuestion(clean_subject, message, question)


def is_html(body: str) -> bool:
    return bool(_HTML.search(body))


def html_to_text(body: str) -> str:
    """The text of an HTML mail with its quoted history and signature blocks removed, one line per block."""
    try:
        root = lxml.html.fromstring(body)
    except (etree.ParserError, ValueError):
        return body
    for marker in root.xpath(_CUT_AFTER_XPATH):
        _drop_from(marker)
    for node in root.xpath(_QUOTE_XPATH):
        _drop(node)
    for node in root.iter():
        if isinstance(node.tag, str) and node.tag.lower() in _BLOCK_TAGS:
            node.tail = "\n" + (node.tail or "")
            if node.tag.lower() != "br":
                node.text = "\n" + (node.text or "")
    text = root.text_content().replace("\xa0", " ")
    return re.sub(r"\n[ \t]*(?:\n[ \t]*)+", "\n\n", text).strip()


def latest_message(text: str, *, language: str | None = None) -> str:
    """The newest message of a plain-text thread, reduced to what its writer asked."""
    text = html.unescape(text).replace("\r\n", "\n").replace("\r", "\n")
    base = (language or "").split("-")[0].split("_")[0].lower()  # zh-CN, pt_BR → zh, pt
    languages = [*ALWAYS_LANGUAGES, *([base] if base in MAIL_LANGUAGES else [])]
    replies = EmailReplyParser(languages=list(dict.fromkeys(languages))).read(text).replies
    first = next((r.body for r in replies if r.body and r.body.strip()), "") if replies else text
    lines = _cut_quoted(_PLACEHOLDER.sub("", first).split("\n"))
    lines = _cut_signature(lines)
    lines = _drop_greetings(lines)
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", "\n".join(lines))]
    kept = [p for p in paragraphs if p and not _DISCLAIMER.search(p)]
    return "\n".join(re.sub(r"[ \t]+", " ", p) for p in kept).strip()


def clean_subject_line(subject: str) -> str:
    """The subject without Re:/Fwd:/回复: prefixes and ticket tags."""
    subject = " ".join(html.unescape(subject or "").split())
    previous = None
    while previous != subject:
        previous, subject = subject, _SUBJECT_PREFIX.sub("", subject, count=1)
    return subject.strip()


def focus(text: str, *, max_tokens: int, count_tokens: Callable[[str], int], keep_first: int = 1) -> str:
    """``text`` if it fits in ``max_tokens``; else its first ``keep_first`` lines (the subject), then as many
    sentences as fit: questions first, then those naming a problem ("error", "how", 无法, 怎么, …), then the
    rest, each group from the start, all put back in their original order."""
    if count_tokens(text) <= max_tokens:
        return text
    head_lines = text.split("\n")[:keep_first]
    head = "\n".join(head_lines)
    sentences = [s.strip() for s in _SENTENCE.findall("\n".join(text.split("\n")[keep_first:])) if s.strip()]
    budget = max_tokens - count_tokens(head)
    order = sorted(range(len(sentences)), key=lambda i: (-_weight(sentences[i]), i))
    chosen: list[int] = []
    for i in order:
        cost = count_tokens(sentences[i]) + 1
        if cost <= budget:
            chosen.append(i)
            budget -= cost
    return "\n".join([head, " ".join(sentences[i] for i in sorted(chosen))]).strip()


def _weight(sentence: str) -> int:
    """2 for a question, 1 for a sentence naming a problem or asking how, 0 for the rest."""
    return 2 if _QUESTION_MARK.search(sentence) else 1 if _FOCUS_WORDS.search(sentence) else 0


def _drop(node) -> None:
    """Remove an element but keep the text that follows it."""
    parent = node.getparent()
    if parent is None:
        return
    if node.tail:
        previous = node.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + node.tail
        else:
            parent.text = (parent.text or "") + node.tail
    parent.remove(node)


def _drop_from(node) -> None:
    """Remove the element, everything after it in its parent, and so on up to the root."""
    while node is not None and node.getparent() is not None:
        parent = node.getparent()
        for sibling in list(node.itersiblings()):
            parent.remove(sibling)
        parent.remove(node)
        node = parent if parent.tag not in ("body", "html") else None


def _cut_quoted(lines: Sequence[str]) -> list[str]:
    """Lines before the first reply header or separator, without ``>`` quotes."""
    kept: list[str] = []
    for i, line in enumerate(lines):
        stripped = line.strip()
        wrapped = bool(kept) and kept[-1].strip().lower().startswith("on ")  # "On …, Name <a@b>" / "wrote:"
        if _SEPARATOR.match(line) or _WROTE.search(stripped):
            break
        if wrapped and re.search(r"\bwrote\s*:\s*$", stripped, re.I):
            kept.pop()
            break
        if _HEADER_START.match(line) and any(_HEADER_FIELD.match(n) for n in lines[i + 1:i + 5]):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line)
    return kept


def _cut_signature(lines: list[str]) -> list[str]:
    """Lines before a ``-- `` signature, a mobile signature, or a sign-off near the end."""
    for i, line in enumerate(lines):
        if line.rstrip() in ("--", "-- ", "—") or _MOBILE.match(line):
            return lines[:i]
        rest = [x for x in lines[i + 1:] if x.strip()]
        if _SIGN_OFF.match(line) and len(rest) <= 6 and all(len(x.strip()) <= 80 for x in rest):
            return lines[:i]
    return lines


def _drop_greetings(lines: list[str]) -> list[str]:
    """Lines without the greeting at the start (a line of its own, or "你好，" before the first sentence)."""
    start = 0
    while start < len(lines) and (not lines[start].strip() or _GREETING.match(lines[start])):
        start += 1
    rest = lines[start:]
    return [_INLINE_GREETING.sub("", rest[0]), *rest[1:]] if rest else rest
