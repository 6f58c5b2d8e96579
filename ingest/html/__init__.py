"""HTML to Markdown-flavoured text: boilerplate pruned, main content found, structure kept for the chunker.

``parse`` builds the tree, ``prune`` removes page furniture, ``render`` turns what is left into Markdown
blocks, ``voters`` asks trafilatura's extractors for the main text, ``select`` keeps the blocks they vote for,
and ``clean`` puts the steps together.
"""

from ingest.html.clean import CleanedPage, clean_html
from ingest.html.losses import DroppedBlock

__all__ = ["CleanedPage", "DroppedBlock", "clean_html"]
