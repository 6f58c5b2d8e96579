"""The Qwen3-Reranker model card's recipe, kept verbatim in spirit as the reference, and test pairs."""

from __future__ import annotations

from rerank.base import RerankPair

#: Context of the engines under test (vLLM's max_model_len); small so that vLLM starts fast on CPU.
MAX_LENGTH = 512

# Model card (https://huggingface.co/Qwen/Qwen3-Reranker-4B), "Transformers Usage".
CARD_PREFIX = (
    "<|im_start|>system\nJudge whether the Document meets the requirements based on the Query and the "
    'Instruct provided. Note that the answer can only be "yes" or "no".<|im_end|>\n<|im_start|>user\n'
)
CARD_SUFFIX = "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"


def card_format_instruction(instruction, query, doc):
    if instruction is None:
        instruction = "Given a web search query, retrieve relevant passages that answer the query"
    return "<Instruct>: {instruction}\n<Query>: {query}\n<Document>: {doc}".format(  # noqa: UP032
        instruction=instruction, query=query, doc=doc
    )


def card_input_ids(tokenizer, pairs: list[RerankPair], max_length: int = 8192) -> list[list[int]]:
    """``process_inputs`` of the model card, before padding: prefix + truncated body + suffix."""
    prefix_tokens = tokenizer.encode(CARD_PREFIX, add_special_tokens=False)
    suffix_tokens = tokenizer.encode(CARD_SUFFIX, add_special_tokens=False)
    texts = [card_format_instruction(p.instruction, p.query, p.document) for p in pairs]
    inputs = tokenizer(
        texts, padding=False, truncation="longest_first", return_attention_mask=False,
        max_length=max_length - len(prefix_tokens) - len(suffix_tokens),
    )
    return [prefix_tokens + ids + suffix_tokens for ids in inputs["input_ids"]]


def card_scores(model_dir: str, pairs: list[RerankPair], max_length: int = 8192) -> list[float]:
    """``compute_logits`` of the model card on fp32 CPU, one padded batch as in the card."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir, padding_side="left")
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    token_false_id = tokenizer.convert_tokens_to_ids("no")
    token_true_id = tokenizer.convert_tokens_to_ids("yes")
    inputs = tokenizer.pad(
        {"input_ids": card_input_ids(tokenizer, pairs, max_length)}, padding=True, return_tensors="pt"
    )
    with torch.no_grad():
        batch_scores = model(**inputs).logits[:, -1, :]
    true_vector = batch_scores[:, token_true_id]
    false_vector = batch_scores[:, token_false_id]
    batch_scores = torch.stack([false_vector, true_vector], dim=1)
    batch_scores = torch.nn.functional.log_softmax(batch_scores, dim=1)
    return batch_scores[:, 1].exp().tolist()


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
