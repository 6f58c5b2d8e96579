"""All of Sift's configuration: one typed object from ``SIFT_*`` environment variables and ``.env``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

RerankEngineName = Literal["none", "vllm", "vllm-http", "transformers"]


class Settings(BaseSettings):
    """Validated at start-up; an invalid value stops Sift with a message naming the variable."""

    model_config = SettingsConfigDict(env_prefix="SIFT_", env_file=".env", extra="ignore")

    data_dir: Path = Field(Path("./data"), description="Where the embedded store, catalog and caches live.")
    qdrant_url: str | None = Field(None, description="Qdrant server URL; unset = embedded engine on disk.")
    qdrant_api_key: str | None = None
    qdrant_collection: str = Field("sift", description="Qdrant collection that holds every Sift collection.")
    embed_model: str = Field(
        "", description="all-MiniLM-L6-v2, multilingual-e5-small (both bundled) or a sentence-transformers folder."
    )
    embed_device: str = "cpu"
    embed_batch_size: int = Field(32, ge=1, le=1024)
    embed_cache: Path | None = Field(None, description="Embedding cache file; default DATA_DIR/embeddings.sqlite3.")
    chunk_size: int = Field(240, ge=32, le=8192, description="Chunk size in embedder tokens.")
    chunk_overlap: int = Field(32, ge=0, le=1024)

    rerank_engine: RerankEngineName = "none"
    rerank_model: str | None = Field(None, description="Reranker model folder or name (vllm, transformers).")
    rerank_url: str | None = Field(None, description="vLLM server URL for the vllm-http engine.")
    rerank_instruction: str | None = Field(None, description="Default rerank instruction.")
    rerank_max_length: int = Field(8192, ge=256, le=32768)
    rerank_compile: bool | None = Field(
        None, description="torch.compile the transformers engine; unset: on a GPU only."
    )
    rerank_queue: int = Field(64, ge=1, le=100_000, description="Requests that may wait for the reranker.")
    rerank_timeout_s: float = Field(30.0, gt=0)

    search_mode: Literal["dense", "lexical", "hybrid"] = Field(
        "hybrid", description="First-stage retrieval: dense, lexical (BM25-style) or hybrid (fused)."
    )
    index_min_points: int = Field(
        20_000, ge=1, description="Embedded store: rebuild the HNSW index after this many new points."
    )
    index_quiet_s: float = Field(30.0, ge=0, description="…once writes have been quiet this long.")
    candidates: int = Field(50, ge=1, le=1000, description="Retrieval candidates handed to the reranker.")
    context_tokens: int = Field(2000, ge=64, le=200_000, description="Token budget of the answer context.")
    max_upload_bytes: int = Field(20 * 1024 * 1024, ge=1024, description="Largest accepted upload.")
    max_files_per_request: int = Field(100, ge=1)
    max_pdf_pages: int = Field(500, ge=1, description="Longest PDF accepted, in pages.")
    async_files: int = Field(20, ge=1, description="Uploads with more files than this run as a background job.")
    async_bytes: int = Field(4 * 1024 * 1024, ge=1, description="Uploads larger than this run as a background job.")

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    api_url: str | None = Field(None, description="Where the CLI finds a running server; default http://host:port.")
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    @field_validator(
        "qdrant_url", "rerank_url", "rerank_model", "rerank_instruction", "rerank_compile", "api_url", mode="before"
    )
    @classmethod
    def _empty_is_unset(cls, value):
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("qdrant_url", "rerank_url", "api_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/") if value else value

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.chunk_overlap >= self.chunk_size:
            raise ValueError("SIFT_CHUNK_OVERLAP must be smaller than SIFT_CHUNK_SIZE")
        if self.rerank_engine == "vllm-http" and not self.rerank_url:
            raise ValueError("SIFT_RERANK_ENGINE=vllm-http needs SIFT_RERANK_URL")
        if self.rerank_engine in ("vllm", "transformers") and not self.rerank_model:
            raise ValueError(f"SIFT_RERANK_ENGINE={self.rerank_engine} needs SIFT_RERANK_MODEL (a model folder)")
        return self

    @property
    def embed_model_path(self) -> str:
        """The configured embedding model (a bundled name or a folder), or the default bundled one."""
        from ingest.encoders import DEFAULT_MODEL

        return self.embed_model.strip() or DEFAULT_MODEL

    @property
    def embed_cache_path(self) -> Path:
        return self.embed_cache or self.data_dir / "embeddings.sqlite3"

    @property
    def server_url(self) -> str:
        return self.api_url or f"http://{self.host}:{self.port}"


class SettingsError(SystemExit):
    """Start-up stops: the message names each invalid ``SIFT_*`` variable."""


def load_settings(**overrides) -> Settings:
    """Settings from the environment, with readable errors naming the variables."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            field = "_".join(str(part) for part in error["loc"]) if error["loc"] else ""
            name = f"SIFT_{field.upper()}" if field else "settings"
            lines.append(f"  {name}: {error['msg']} (got {error.get('input')!r})" if field
                         else f"  {error['msg'].removeprefix('Value error, ')}")
        raise SettingsError("invalid Sift configuration:\n" + "\n".join(lines)) from None


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (cached; tests build their own with ``load_settings``)."""
    return load_settings()
