"""Embedders: chromadb's own ONNX all-MiniLM-L6-v2 by default (no torch), any LangChain one by setting.

Every embedder is a LangChain `Embeddings` plus two things the chunker needs: `max_tokens` (what the
model reads before it silently truncates) and `token_offsets(text)` (its own tokenizer's view of the
text, so a chunk is measured in the model's word pieces, not in guessed words).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence
from pathlib import Path

from langchain_core.embeddings import Embeddings

from newsdesk.settings import DEFAULT_EMBEDDING_MODEL, EmbeddingSettings

log = logging.getLogger(__name__)


class Embedder(Embeddings):
    """A LangChain Embeddings that also knows its token budget."""

    name: str = ""
    max_tokens: int = 256  # including the model's special tokens
    special_tokens: int = 0  # how many of max_tokens the model's own markers take

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        raise NotImplementedError

    def count_tokens(self, text: str) -> int:
        return len(self.token_offsets(text)) + self.special_tokens

    @property
    def content_budget(self) -> int:
        """Word pieces available for header + body."""
        return self.max_tokens - self.special_tokens


class MiniLMEmbedder(Embedder):
    """all-MiniLM-L6-v2 through chromadb's `ONNXMiniLM_L6_V2`.

    chromadb downloads the model to ~/.cache/chroma/onnx_models on first use; when the files are
    already there (a Docker image, an offline machine seeded from a copy) nothing is downloaded.
    """

    name = DEFAULT_EMBEDDING_MODEL
    max_tokens = 256  # the function truncates (silently) at 256 word pieces, [CLS] and [SEP] included
    special_tokens = 2

    def __init__(self, batch_size: int = 16):
        from chromadb.utils.embedding_functions import ONNXMiniLM_L6_V2

        self._function = ONNXMiniLM_L6_V2(preferred_providers=["CPUExecutionProvider"])
        self.batch_size = batch_size
        self._lock = threading.Lock()
        self._plain_tokenizer = None

    def _ensure_model(self) -> None:
        self._function._download_model_if_not_exists()

    @property
    def model_dir(self) -> Path:
        return Path(self._function.DOWNLOAD_PATH) / self._function.EXTRACTED_FOLDER_NAME

    def _tokenizer(self):  # noqa: ANN202 - tokenizers.Tokenizer
        if self._plain_tokenizer is None:
            with self._lock:
                if self._plain_tokenizer is None:
                    from tokenizers import Tokenizer

                    self._ensure_model()
                    tokenizer = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
                    tokenizer.no_truncation()
                    tokenizer.no_padding()
                    self._plain_tokenizer = tokenizer
        return self._plain_tokenizer

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        return list(self._tokenizer().encode(text, add_special_tokens=False).offsets)

    def token_offsets_batch(self, texts: Sequence[str]) -> list[list[tuple[int, int]]]:
        encodings = self._tokenizer().encode_batch(list(texts), add_special_tokens=False)
        return [list(e.offsets) for e in encodings]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = self._function._forward(list(texts), batch_size=self.batch_size)
        return vectors.tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


_WORDISH = re.compile(r"\w+|[^\w\s]", re.UNICODE)


class LangChainEmbedder(Embedder):
    """Any LangChain embeddings model (`openai:text-embedding-3-small`, `ollama:nomic-embed-text`).

    Their tokenizers are not available offline, so tokens are estimated conservatively: one per word
    or punctuation mark, with a budget well under what those models accept (8k / 2k tokens).
    """

    max_tokens = 512
    special_tokens = 0

    def __init__(self, inner: Embeddings, name: str):
        self._inner = inner
        self.name = name

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        return [m.span() for m in _WORDISH.finditer(text)]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self._inner.embed_query(text)


def build_embedder(settings: EmbeddingSettings) -> Embedder:
    """The embedder EMBEDDING_MODEL names."""
    if settings.model in (DEFAULT_EMBEDDING_MODEL, f"chroma:{DEFAULT_EMBEDDING_MODEL}"):
        return MiniLMEmbedder(batch_size=settings.batch_size)
    from langchain.embeddings import init_embeddings

    kwargs: dict[str, object] = {}
    if settings.base_url:
        kwargs["base_url"] = settings.base_url
    if settings.api_key:
        kwargs["api_key"] = settings.api_key.get_secret_value()
    inner = init_embeddings(settings.model, **kwargs)
    return LangChainEmbedder(inner, settings.model)
