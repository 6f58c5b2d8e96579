"""The pairs every engine is tested on, and the model card's scores for them (``rerank.model_card``)."""

from __future__ import annotations

from rerank.base import RerankPair
from rerank.model_card import CardReranker

#: Context of the engines under test (vLLM's max_model_len); small so that vLLM starts fast on CPU.
MAX_LENGTH = 512


def card_scores(model_dir: str, pairs: list[RerankPair], max_length: int = 8192) -> list[float]:
    """The model card's scores for ``pairs``, in fp32 on CPU."""
    return CardReranker(model_dir, max_length=max_length).score(pairs)


QUERIES = [
    ("What causes the seasons on Earth?", None),
    ("北京的秋天天气怎么样？", "Given a Chinese question, retrieve passages that answer it"),
    ("python read a file line by line", "Given a code search query, retrieve code that solves it"),
    ("Is vitamin D linked to bone density?", "Given a scientific claim, retrieve supporting abstracts"),
    ("How do I reset my router password?", None),
]

DOCUMENTS = [
    "The tilt of Earth's axis, about 23.4 degrees, changes how directly sunlight strikes each hemisphere.",
    "Seasons are not caused by the distance to the Sun; Earth is closest to the Sun in January.",
    "北京的秋天天高云淡，气温适中，是一年中最舒适的季节。",
    "上海是中国最大的城市之一，也是重要的金融中心。",
    "with open('data.txt') as f:\n    for line in f:\n        print(line.rstrip())",
    "def add(a, b):\n    return a + b\n\nassert add(2, 3) == 5",
    "Vitamin D supplementation increased lumbar spine bone mineral density in older adults (n=412).",
    "Most routers can be reset by holding the reset button for 30 seconds, restoring the admin password.",
    "Bananas are rich in potassium. " * 12,
    "Quarterly revenue rose 8% on strong demand; the board approved a dividend of $0.42 per share. 🎉",
]


def contract_pairs() -> list[RerankPair]:
    """The 50 pairs every engine scores: 5 queries (English, Chinese, code) x 10 documents."""
    return [
        RerankPair(query=query, document=document, instruction=instruction)
        for query, instruction in QUERIES
        for document in DOCUMENTS
    ]
