"""Build docs and help-centre pages whose gold is known: real Markdown help pages through real generators.

    python bench/docs_pages.py [--out .cache/docs_pages] [--bin DIR] [--per-source N]

Sources (Markdown, each page its own gold): npm's documentation as installed with npm (``npm root -g``;
command and configuration help pages), undici's API docs shipped inside npm, and the Chinese help pages in
``bench/help_pages/``. Generators: MkDocs (themes ``mkdocs`` and ``readthedocs``), MkDocs Material, Sphinx
with MyST (themes alabaster, sphinx_rtd_theme, furo, pydata_sphinx_theme), run from ``--bin`` (a virtualenv
with ``pip install mkdocs mkdocs-material sphinx myst-parser furo sphinx-rtd-theme pydata-sphinx-theme``;
versions are recorded in the manifest). Layouts of products not on PyPI (Zendesk Guide, Freshdesk, Intercom,
Confluence, Docusaurus, GitBook, a bare ``<body>``) come from ``bench/help_layouts.py`` around the page
rendered by markdown-it-py.

Split, fixed before any tuning: a page is ``tune`` when both its source (by SHA-1 of its name) and its
generator/theme are in the tune halves, ``held-out`` when neither is; mixed pages are not built. Held-out
themes: mkdocs-readthedocs, furo, pydata, intercom, confluence, docusaurus. Writes ``manifest.jsonl``
(``html``, ``gold``, ``kind``, ``split``, ``source``) into ``--out`` (gitignored; nothing here is committed).

``--fixtures tests/ingest/fixtures/pages`` instead renders that folder's ``src/*.md`` through every generator
and layout into the small gzipped pages the tests read.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.help_layouts import LAYOUTS, Page  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
HELD_OUT_KINDS = {"mkdocs-readthedocs", "sphinx-furo", "sphinx-pydata", "intercom", "confluence", "docusaurus"}
MKDOCS_THEMES = {"mkdocs": "mkdocs", "mkdocs-readthedocs": "readthedocs", "mkdocs-material": "material"}
SPHINX_THEMES = {
    "sphinx-alabaster": "alabaster",
    "sphinx-rtd": "sphinx_rtd_theme",
    "sphinx-furo": "furo",
    "sphinx-pydata": "pydata_sphinx_theme",
}
FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.S)


def content_split(name: str) -> str:
    """``tune`` or ``held-out`` for a source page, by a fixed hash of its name."""
    return "tune" if hashlib.sha1(name.encode()).digest()[0] % 2 == 0 else "held-out"


def kind_split(kind: str) -> str:
    return "held-out" if kind in HELD_OUT_KINDS else "tune"


def sources(per_source: int) -> dict[str, str]:
    """``slug -> Markdown`` of every source page, front matter turned into a title and a lead paragraph."""
    npm_root = Path(subprocess.run(["npm", "root", "-g"], capture_output=True, text=True, check=True).stdout.strip())
    folders = [
        ("npm", npm_root / "npm" / "docs" / "content"),
        ("undici", npm_root / "npm" / "node_modules" / "undici" / "docs" / "docs"),
        ("zh", ROOT / "bench" / "help_pages"),
    ]
    pages = {}
    for prefix, folder in folders:
        for path in sorted(folder.rglob("*.md"))[:per_source]:
            slug = prefix + "-" + "-".join(path.relative_to(folder).with_suffix("").parts).lower()
            pages[slug] = _source_page(path.read_text(encoding="utf-8"))
    return pages


def _source_page(text: str) -> str:
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    match = FRONT_MATTER.match(text)
    if not match:
        return text
    meta = dict(re.findall(r"^(\w+):\s*(.+)$", match.group(1), re.M))
    lead = f"# {meta['title']}\n\n" if "title" in meta else ""
    lead += f"{meta['description']}\n\n" if "description" in meta else ""
    return lead + text[match.end() :]


def build_mkdocs(bin_dir: Path, kind: str, pages: dict[str, str], out: Path) -> dict[str, Path]:
    work = out / "_build" / kind
    shutil.rmtree(work, ignore_errors=True)
    (work / "docs").mkdir(parents=True)
    (work / "docs" / "index.md").write_text("# Home\n\nThe documentation.\n", encoding="utf-8")
    for slug, text in pages.items():
        (work / "docs" / f"{slug}.md").write_text(text, encoding="utf-8")
    extensions = ["tables", "fenced_code", "admonition", {"toc": {"permalink": True}}]
    if kind == "mkdocs-material":
        extensions += ["pymdownx.highlight", "pymdownx.superfences"]
    theme = {"name": MKDOCS_THEMES[kind]}
    if kind == "mkdocs-material":
        theme["features"] = ["navigation.footer", "content.action.edit", "search.suggest"]
    config = {
        "site_name": "Example Docs",
        "repo_url": "https://example.com/repo",
        "edit_uri": "edit/main/docs/",
        "theme": theme,
        "markdown_extensions": extensions,
        "plugins": ["search"],
    }
    (work / "mkdocs.yml").write_text(json.dumps(config), encoding="utf-8")  # YAML is a superset of JSON
    subprocess.run([str(bin_dir / "mkdocs"), "build", "-q", "-f", str(work / "mkdocs.yml"), "-d", str(work / "site")],
                   check=True, capture_output=True)
    return {slug: work / "site" / slug / "index.html" for slug in pages}


def build_sphinx(bin_dir: Path, kind: str, pages: dict[str, str], out: Path) -> dict[str, Path]:
    work = out / "_build" / kind
    shutil.rmtree(work, ignore_errors=True)
    (work / "src").mkdir(parents=True)
    (work / "src" / "conf.py").write_text(
        f"project = 'Example Docs'\nextensions = ['myst_parser']\nhtml_theme = {SPHINX_THEMES[kind]!r}\n"
        "source_suffix = {'.md': 'markdown'}\nmyst_heading_anchors = 3\nsuppress_warnings = ['myst.header', "
        "'myst.xref_missing', 'toc.not_included', 'misc.highlighting_failure']\n",
        encoding="utf-8",
    )
    toctree = "\n".join(pages)
    index = f"# Home\n\n```{{toctree}}\n:maxdepth: 2\n\n{toctree}\n```\n"
    (work / "src" / "index.md").write_text(index, encoding="utf-8")
    for slug, text in pages.items():
        body = text if text.lstrip().startswith("# ") else f"# {slug}\n\n{text}"
        pages[slug] = body
        (work / "src" / f"{slug}.md").write_text(body, encoding="utf-8")
    subprocess.run([str(bin_dir / "sphinx-build"), "-q", "-b", "html", str(work / "src"), str(work / "html")],
                   check=True, capture_output=True)
    return {slug: work / "html" / f"{slug}.html" for slug in pages}


def build_layout(kind: str, pages: dict[str, str], out: Path) -> dict[str, Path]:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark").enable("table")
    work = out / "_build" / kind
    work.mkdir(parents=True, exist_ok=True)
    titles = {slug: (re.search(r"^# (.+)$", text, re.M) or [None, slug])[1] for slug, text in pages.items()}
    built = {}
    for slug, text in pages.items():
        body_md = re.sub(r"\A\s*# .+\n", "", text, count=1)
        body = md.render(body_md)
        headings = [(t, _anchor(t)) for t in re.findall(r"^#{2,3} (.+)$", body_md, re.M)]
        siblings = [(titles[s], f"/{s}") for s in pages if s != slug][:12]
        lang = "zh-CN" if slug.startswith("zh-") else "en"
        html = LAYOUTS[kind](Page(titles[slug], body, lang, siblings, headings))
        built[slug] = work / f"{slug}.html"
        built[slug].write_text(html, encoding="utf-8")
    return built


def _anchor(text: str) -> str:
    return re.sub(r"[^\w]+", "-", text.lower()).strip("-")


def build(kind: str, pages: dict[str, str], out: Path, bin_dir: Path) -> dict[str, Path]:
    """Render ``pages`` (slug -> Markdown) with one generator or layout; returns slug -> HTML file."""
    if kind in MKDOCS_THEMES:
        return build_mkdocs(bin_dir, kind, pages, out)
    if kind in SPHINX_THEMES:
        return build_sphinx(bin_dir, kind, pages, out)
    return build_layout(kind, pages, out)


KINDS = [*MKDOCS_THEMES, *SPHINX_THEMES, *LAYOUTS]


def write_fixtures(folder: Path, bin_dir: Path) -> None:
    """Test fixtures: the pages of ``folder/src`` through every generator, gzipped as ``KIND-SLUG.html.gz``."""
    import gzip
    import tempfile

    pages = {path.stem: path.read_text(encoding="utf-8") for path in sorted((folder / "src").glob("*.md"))}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in KINDS:
            for slug, html in build(kind, dict(pages), Path(tmp), bin_dir).items():
                if slug.startswith("vpn-"):
                    (folder / f"{kind}-{slug}.html.gz").write_bytes(gzip.compress(html.read_bytes(), mtime=0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / ".cache" / "docs_pages")
    parser.add_argument("--bin", type=Path, default=ROOT / ".cache" / "htmlgen-venv" / "bin")
    parser.add_argument("--per-source", type=int, default=40, help="At most N pages from each source folder.")
    parser.add_argument("--fixtures", type=Path, help="Instead: write the test fixtures of this folder's src/.")
    args = parser.parse_args()
    if args.fixtures:
        write_fixtures(args.fixtures, args.bin)
        return

    every = sources(args.per_source)
    rows = []
    for kind in KINDS:
        split = kind_split(kind)
        pages = {slug: text for slug, text in every.items() if content_split(slug) == split}
        built = build(kind, pages, args.out, args.bin)
        for slug, html in built.items():
            gold = args.out / "gold" / kind / f"{slug}.md"
            gold.parent.mkdir(parents=True, exist_ok=True)
            gold.write_text(pages[slug], encoding="utf-8")
            rows.append({"html": str(html), "gold": str(gold), "kind": kind, "split": split, "source": slug})
        print(f"{kind}: {len(built)} pages ({split})", file=sys.stderr)  # noqa: T201
    (args.out / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


if __name__ == "__main__":
    main()
