"""Typed errors the core raises; each carries a message fit to show a person."""


class MovieBotError(Exception):
    """Base of every error the core raises on purpose."""


class CatalogError(MovieBotError):
    """A catalog source is missing, unreachable or not a movie table."""


class EmbedderError(MovieBotError):
    """The embedding model cannot be loaded or reached."""


class IndexFileError(MovieBotError):
    """An index directory is missing, corrupt, or built for another embedder."""


class InvalidRequestError(MovieBotError):
    """A user asked for something that cannot be done; nothing was changed."""


class StoreUnavailableError(MovieBotError):
    """The profile store cannot be reached in time; the request may be retried later."""


class InvalidQueryError(InvalidRequestError):
    """A user's search text cannot be searched (empty, for example)."""
