"""Any embedding model on an Ollama server: ``nomic-embed-text`` in production, or a
multilingual one (``bge-m3``, ``paraphrase-multilingual``) for users who search in
another language than English."""

from __future__ import annotations

import time
from collections.abc import Sequence

import httpx
import numpy as np
import ollama

from core.embedders.vectors import normalized
from core.errors import EmbedderError
from core.models import Vectors

TASK_PREFIXES = {"nomic-embed-text": ("search_document: ", "search_query: ")}
"""What a model expects before a document and before a query; the others take none."""


def base_model(model: str) -> str:
    """The model's name without its tag: ``bge-m3:567m`` is ``bge-m3``."""
    return model.split(":", 1)[0]


class _TransientError(Exception):
    """A failure of the Ollama server that a retry may cure."""


class OllamaEmbedder:
    """Embeds through an Ollama server's batched ``/api/embed`` endpoint.

    nomic-embed-text expects task prefixes, so documents and queries are prefixed
    ``search_document: `` and ``search_query: `` (``TASK_PREFIXES``); bge-m3 and
    paraphrase-multilingual take the text as it is. Connection failures, timeouts and
    server errors are retried with exponential backoff; a missing model is not.
    """

    def __init__(
        self,
        host: str = "http://127.0.0.1:11434",
        model: str = "nomic-embed-text",
        *,
        batch_size: int = 64,
        timeout: float = 60.0,
        retries: int = 3,
        backoff: float = 0.5,
        dim: int | None = None,
    ) -> None:
        """An embedder of ``model`` on the Ollama server at ``host``.

        ``dim`` is the vector length when it is known beforehand (an index's manifest
        says it); otherwise the first embedding tells it. A server that answers with
        another length is refused.
        """
        self._client = ollama.Client(host=host, timeout=timeout)
        self._host = host
        self._model = model
        self._batch_size = batch_size
        self._retries = retries
        self._backoff = backoff
        self._dim = dim
        self._document_prefix, self._query_prefix = TASK_PREFIXES.get(base_model(model), ("", ""))

    @property
    def name(self) -> str:
        return f"ollama:{self._model}"

    @property
    def dim(self) -> int | None:
        return self._dim

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        documents = [f"{self._document_prefix}{text}" for text in texts]
        batches = [
            self._embed(documents[start : start + self._batch_size])
            for start in range(0, len(documents), self._batch_size)
        ]
        if not batches:
            return np.empty((0, self._dim or 0), np.float32)
        vectors: Vectors = np.concatenate(batches)
        return vectors

    def embed_query(self, text: str) -> Vectors:
        vector: Vectors = self._embed([f"{self._query_prefix}{text}"])[0]
        return vector

    def _embed(self, inputs: list[str]) -> Vectors:
        for attempt in range(self._retries):
            try:
                return self._request(inputs)
            except _TransientError:
                time.sleep(self._backoff * 2**attempt)
        try:
            return self._request(inputs)
        except _TransientError as error:
            raise EmbedderError(str(error)) from error

    def _request(self, inputs: list[str]) -> Vectors:
        """One call to ``/api/embed``; failures worth retrying raise ``_TransientError``."""
        try:
            response = self._client.embed(model=self._model, input=inputs, truncate=True)
        except ollama.ResponseError as error:
            if error.status_code == 404 or "not found" in str(error.error).lower():
                raise EmbedderError(
                    f"the Ollama server at {self._host} does not have the model "
                    f"{self._model}: run `ollama pull {self._model}`"
                ) from error
            if error.status_code >= 500:
                raise _TransientError(f"Ollama failed to embed: {error.error}") from error
            raise EmbedderError(f"Ollama refused to embed: {error.error}") from error
        except ValueError as error:  # pydantic's ValidationError: a malformed answer
            raise EmbedderError(f"Ollama sent a malformed answer: {error}") from error
        except (ConnectionError, httpx.TransportError) as error:
            raise _TransientError(
                f"cannot reach the Ollama server at {self._host} "
                f"({type(error).__name__}); is `ollama serve` running?"
            ) from error
        return self._checked(response.embeddings, len(inputs))

    def _checked(self, embeddings: Sequence[Sequence[float]], expected: int) -> Vectors:
        try:
            array = np.asarray(embeddings, dtype=np.float32)
        except ValueError as error:
            raise EmbedderError("Ollama returned vectors of unequal lengths") from error
        if array.ndim != 2 or len(array) != expected:
            raise EmbedderError(f"Ollama returned {len(array)} vectors for {expected} texts")
        vectors = normalized(array)
        if self._dim is not None and vectors.shape[1] != self._dim:
            raise EmbedderError(
                f"Ollama returned {vectors.shape[1]}-d vectors, expected {self._dim}"
            )
        self._dim = int(vectors.shape[1])
        return vectors
