"""Traditional and simplified Chinese folded to one script, so that lexical terms of either match.

OpenCC's ``tw2s`` then ``hk2s`` (phrase tables first, then characters) turns traditional text of Taiwan,
Hong Kong and the general standard into simplified. Folding applies to chunks and questions alike; it is
for matching only, the stored text keeps the author's script. ``bench/zh_script.py`` measured it against
zhconv, hanziconv, opencc-python-reimplemented and a character table on the Chinese evaluation set.
"""

from __future__ import annotations

from functools import cache


@cache
def _converters():
    try:
        import opencc
    except ImportError as exc:  # pragma: no cover - exercised only without the dependency
        raise ImportError("retrieval.chinese needs OpenCC: pip install opencc") from exc
    return opencc.OpenCC("tw2s"), opencc.OpenCC("hk2s")


def to_simplified(text: str) -> str:
    """``text`` with traditional Chinese (Taiwan and Hong Kong variants included) in simplified characters."""
    taiwan, hong_kong = _converters()
    return hong_kong.convert(taiwan.convert(text))
