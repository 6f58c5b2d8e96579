"""All of Sift's configuration: one typed object from ``SIFT_*`` environment variables and ``.env``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

RerankEngineName = Literal["none", "vllm", "vllm-http", "transformers"]


class WebhookIntegration(BaseModel):
    """How one helpdesk signs the requests it sends to ``/v1/webhooks/tickets/{name}`` (see README)."""

    model_config = ConfigDict(extra="forbid")

    secret: SecretStr = Field(..., min_length=16)
    signature_header: str = "X-Sift-Signature"
    timestamp_header: str | None = Field("X-Sift-Timestamp", description="None: the helpdesk signs no timestamp.")
    encoding: Literal["hex", "base64"] = "hex"
    signature_prefix: str = Field("", description="Stripped from the header first, e.g. 'sha256='.")
    separator: str = Field("", description="Between timestamp and body in the signed message.")
    collections: list[str] = Field(default_factory=lambda: ["default"], min_length=1)
    fields: dict[str, str] = Field(
        default_factory=dict, description="Dotted paths in the payload for subject/body, e.g. issue.fields.summary."
    )


class Settings(BaseSettings):
    """Validated at start-up; an invalid value stops Sift with a message naming the variable."""

    model_config = SettingsConfigDict(env_prefix="SIFT_", env_file=".env", extra="ignore")

    data_dir: Path = Field(Path("./data"), description="Where the embedded store, catalog and caches live.")
    qdrant_url: str | None = Field(None, description="Qdrant server URL; unset = embedded engine on disk.")
    qdrant_api_key: SecretStr | None = None
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
    rerank_model: str | None = Field(
        None, description="Reranker model folder (vllm, transformers); served name or model folder (vllm-http)."
    )
    rerank_url: str | None = Field(None, description="vLLM server URL for the vllm-http engine.")
    rerank_model_name: str | None = Field(
        None, description="Model name reported by the rerank APIs; default the model folder's base name."
    )
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
    index_rebuild_timeout_s: float = Field(3600.0, gt=0, description="An index rebuild taking longer is stopped.")
    candidates: int = Field(50, ge=1, le=1000, description="Retrieval candidates handed to the reranker.")
    context_tokens: int = Field(2000, ge=64, le=200_000, description="Token budget of the answer context.")
    max_upload_bytes: int = Field(20 * 1024 * 1024, ge=1024, description="Largest document, as read or inflated.")
    max_files_per_request: int = Field(100, ge=1, description="Documents in one request, archive members included.")
    max_pdf_pages: int = Field(500, ge=1, description="Longest PDF accepted, in pages.")
    max_request_bytes: int = Field(64 * 1024 * 1024, ge=1024, description="Body of an upload request, as read.")
    max_body_bytes: int = Field(4 * 1024 * 1024, ge=1024, description="Body of any other request, as read.")
    max_inflated_bytes: int = Field(
        256 * 1024 * 1024, ge=1024, description="Bytes inflated from all archives and DOCX files of one request."
    )
    max_question_chars: int = Field(8000, ge=16, le=100_000, description="Longest question or rerank query.")
    max_candidates: int = Field(200, ge=1, le=1000, description="Most candidates a query may ask for.")
    rerank_max_documents: int = Field(1000, ge=1, le=100_000, description="Most documents in one rerank call.")
    async_files: int = Field(20, ge=1, description="Uploads with more files than this run as a background job.")
    job_retention_s: float = Field(7 * 86400, ge=0, description="Finished jobs are forgotten after this long.")
    async_bytes: int = Field(4 * 1024 * 1024, ge=1, description="Uploads larger than this run as a background job.")

    auth: Literal["auto", "off"] = Field(
        "auto", description="auto: keys required once an admin key is set or any key exists; off: no keys, ever."
    )
    admin_key: SecretStr | None = Field(None, description="A bootstrap admin key (at least 32 characters).")
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Browser origins allowed to call Sift (comma-separated)."
    )
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Host names Sift answers to (comma-separated); empty: loopback while open."
    )
    rate_limit_per_minute: int = Field(1200, ge=0, description="Requests a minute per API key; 0 = unlimited.")
    max_concurrent_uploads: int = Field(4, ge=0, description="Uploads in progress per API key; 0 = unlimited.")

    sync_delay_s: float = Field(1.0, ge=0, description="Help-centre sync: pause between requests to a site.")
    sync_max_pages: int = Field(2000, ge=1, description="Help-centre sync: most pages of one source.")
    sync_timeout_s: float = Field(20.0, gt=0, description="Help-centre sync: timeout of one request.")
    sync_user_agent: str = Field("SiftSync/0.1", min_length=1, description="User agent for sync and robots.txt.")
    webhooks: dict[str, WebhookIntegration] = Field(
        default_factory=dict, description="Ticket webhook integrations as JSON {name: {secret, ...}}."
    )
    webhook_replay_s: float = Field(300.0, gt=0, description="Webhook timestamps older or newer than this: 401.")
    ticket_min_score: float = Field(0.5, description="Ticket suggestions are 'answered' from this score on.")

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    api_url: str | None = Field(None, description="Where the CLI finds a running server; default http://host:port.")
    api_key: SecretStr | None = Field(None, description="The key the CLI sends to a server that requires one.")
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    @field_validator(
        "qdrant_url", "qdrant_api_key", "rerank_url", "rerank_model", "rerank_model_name", "rerank_instruction",
        "rerank_compile", "api_url", "admin_key", "api_key", mode="before"
    )
    @classmethod
    def _empty_is_unset(cls, value):
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("cors_origins", "allowed_hosts", mode="before")
    @classmethod
    def _comma_separated(cls, value):
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            if origin == "*" or not origin.startswith(("http://", "https://")) or origin.count("/") != 2:
                raise ValueError(f"{origin!r} is not an origin like https://helpdesk.example.com (no path, no *)")
        return [origin.rstrip("/") for origin in value]

    @field_validator("allowed_hosts")
    @classmethod
    def _hosts(cls, value: list[str]) -> list[str]:
        return [host.lower() for host in value]

    @field_validator("admin_key")
    @classmethod
    def _long_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("must be at least 32 characters (e.g. `python -c 'import secrets; "
                             "print(secrets.token_urlsafe(32))'`)")
        return value

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
    def rerank_served_name(self) -> str:
        """The reranker's name in API answers: never a filesystem path."""
        if self.rerank_model_name:
            return self.rerank_model_name
        return Path(self.rerank_model).name if self.rerank_model else "none"

    @property
    def server_url(self) -> str:
        return self.api_url or f"http://{self.host}:{self.port}"


SECRET_FIELDS = frozenset({"admin_key", "api_key", "qdrant_api_key", "webhooks"})  # never echoed in error messages


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
            shown = "" if field in SECRET_FIELDS else f" (got {error.get('input')!r})"
            lines.append(f"  {name}: {error['msg']}{shown}" if field
                         else f"  {error['msg'].removeprefix('Value error, ')}")
        raise SettingsError("invalid Sift configuration:\n" + "\n".join(lines)) from None


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (cached; tests build their own with ``load_settings``)."""
    return load_settings()
