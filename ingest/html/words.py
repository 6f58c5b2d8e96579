"""Words for matching blocks to the voters' text."""

from __future__ import annotations

import re

# Words for matching blocks to extractor output; scripts written without spaces count one character a word.
_UNSPACED = "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"[^\W{_UNSPACED}]+|[{_UNSPACED}]")
_INVISIBLE = dict.fromkeys(map(ord, "\xad\u200b\u200c\u200d\u2060\ufeff"))  # soft hyphens, zero widths


def words(text: str) -> list[str]:
    """The words of a text for matching: soft hyphens and zero-width characters do not split words."""
    return _TOKEN.findall(text.translate(_INVISIBLE))
