"""Typed errors the core raises; each carries a message fit to show a person."""


class MovieBotError(Exception):
    """Base of every error the core raises on purpose."""


class CatalogError(MovieBotError):
    """A catalog source is missing, unreachable or not a movie table."""


class EmbedderError(MovieBotError):
    """The embedding model cannot be loaded or reached."""


class IndexFileError(MovieBotError):
    """An index directory is missing, corrupt, or built for another embedder."""


class InvalidQueryError(MovieBotError):
    """A user's search text cannot be searched (empty, for example)."""
