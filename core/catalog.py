"""Load a movie catalog from the Hugging Face hub, a local file, or the bundled sample.

Every source is read into a table and normalized into :class:`Movie` values. Only the
``title`` column is required; ``overview``, ``genres``, ``cast``, ``producer``, a year
(``year`` or ``release_date``), a popularity (``vote_count``, else ``popularity``),
TMDB's ``vote_average``, ``vote_count`` and ``runtime``, ``imdb_id`` and an id
(``movie_id``, ``tmdb_id`` or ``id``) are used when present. ``tmdb_id`` is the TMDB id;
so is ``id`` in TMDB's own export (which has ``original_title`` and ``vote_average``).

A catalog whose id column is missing or not whole numbers gets stable ids, made from
each movie's title and year (and its overview where two rows share both), so that
re-ordering the file never points a user's picks at other movies.

pandas (and fsspec) are imported when a catalog is read, not with this module: the
running bot reads its index, never a catalog, and does without their memory.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import date
from functools import partial
from importlib import resources
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal, TypeVar

from core.errors import CatalogError
from core.models import Movie

if TYPE_CHECKING:
    import pandas as pd

COHERE_MOVIES = "hf://datasets/Cohere/movies/movies.parquet"
SAMPLE = "sample"
ID_COLUMNS = ("movie_id", "tmdb_id", "id")
TMDB_EXPORT_COLUMNS = frozenset({"id", "original_title", "vote_average"})
# Ids made from titles lie in [2**52, 2**53): apart from the small ids catalogs carry, and
# exact as the double-precision numbers of Redis's Lua scripts. Two of a million movies
# share one with a chance of about 1 in 10,000; the second is then dropped and counted.
STABLE_ID_BASE = 2**52
IMDB_ID = re.compile(r"tt\d{7,10}")

TableReader = Callable[[Any], "pd.DataFrame"]
N = TypeVar("N", int, float)


@dataclass(frozen=True, slots=True)
class Catalog:
    """The movies of one source, and how many rows were left out and why."""

    movies: tuple[Movie, ...]
    source: str
    dropped_untitled: int = 0
    dropped_duplicate_ids: int = 0

    def __len__(self) -> int:
        return len(self.movies)


def load_catalog(source: str = COHERE_MOVIES) -> Catalog:
    """Load and normalize a catalog.

    Args:
        source: ``sample``, a local ``.parquet``/``.csv``/``.csv.gz`` path, or a URL
            that fsspec can open (``hf://datasets/...``, ``https://...``, ``file://...``).

    Raises:
        CatalogError: the source is missing, unreachable, unreadable or has no titles.
    """
    return catalog_from_table(_read_table(source), source)


def catalog_from_table(table: pd.DataFrame, source: str) -> Catalog:
    """Normalize a raw table of movies; rows without a title are dropped and counted."""
    table = table.rename(columns=lambda name: str(name).strip().lower())
    if "title" not in table.columns:
        columns = ", ".join(map(str, table.columns)) or "none"
        raise CatalogError(f"{source} has no 'title' column (columns: {columns})")
    tmdb_column = _tmdb_column(set(table.columns))
    given = _given_ids(table)
    titled = [
        (position, _movie(title, row, tmdb_column))
        for position, row in enumerate(table.to_dict("records"))
        if (title := _text(row.get("title")))
    ]
    found = [movie for _, movie in titled]
    ids = stable_ids(found) if given is None else [given[position] for position, _ in titled]
    movies: dict[int, Movie] = {}
    for movie_id, movie in zip(ids, found, strict=True):
        movies.setdefault(movie_id, replace(movie, movie_id=movie_id))
    untitled, duplicates = len(table) - len(found), len(found) - len(movies)
    return Catalog(tuple(movies.values()), source, untitled, duplicates)


def stable_ids(movies: Sequence[Movie]) -> list[int]:
    """An id for each movie from its title and year, case and Unicode forms aside; movies
    that share both are told apart by their overview."""
    keys = [(unicodedata.normalize("NFKC", m.title).casefold(), str(m.year or "")) for m in movies]
    shared = {key for key, count in Counter(keys).items() if count > 1}
    return [
        _stable_id(*key, movie.overview) if key in shared else _stable_id(*key)
        for key, movie in zip(keys, movies, strict=True)
    ]


def _stable_id(*parts: str) -> int:
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return STABLE_ID_BASE + int.from_bytes(digest[:8], "big") % STABLE_ID_BASE


def _read_table(source: str) -> pd.DataFrame:
    if source == SAMPLE:
        sample = resources.files("core.data").joinpath("sample_movies.csv")
        with sample.open("rb") as stream:
            return _read_csv(stream)
    if "://" in source:
        return _read_remote(source)
    path = Path(source).expanduser()
    if not path.is_file():
        raise CatalogError(f"catalog file not found: {path}")
    with path.open("rb") as stream:
        return _parse(stream, _reader_for(path.name), str(path))


def _read_remote(url: str) -> pd.DataFrame:
    import fsspec

    reader = _reader_for(url)
    try:
        with fsspec.open(url, "rb") as stream:
            return _parse(stream, reader, url)
    except CatalogError:
        raise
    except Exception as error:  # network and hub clients raise many unrelated types
        raise CatalogError(f"cannot fetch the catalog at {url}: {error}") from error


def _parse(stream: IO[bytes], reader: TableReader, source: str) -> pd.DataFrame:
    try:
        return reader(stream)
    except Exception as error:  # pandas and pyarrow raise many unrelated types
        raise CatalogError(f"cannot read {source} as a movie table: {error}") from error


def _reader_for(name: str) -> TableReader:
    import pandas as pd

    lowered = name.lower().split("?")[0]
    if lowered.endswith(".parquet"):
        return pd.read_parquet
    if lowered.endswith(".csv.gz"):
        return partial(_read_csv, compression="gzip")
    if lowered.endswith(".csv"):
        return _read_csv
    raise CatalogError(f"unsupported catalog format: {name} (use .parquet, .csv or .csv.gz)")


def _read_csv(stream: IO[bytes], compression: Literal["gzip"] | None = None) -> pd.DataFrame:
    import pandas as pd

    return pd.read_csv(stream, dtype=str, keep_default_na=False, compression=compression)


def _tmdb_column(columns: set[str]) -> str:
    """``tmdb_id``, or ``id`` in TMDB's own export, which has no ``tmdb_id``."""
    return "id" if "tmdb_id" not in columns and columns >= TMDB_EXPORT_COLUMNS else "tmdb_id"


def _given_ids(table: pd.DataFrame) -> list[int] | None:
    """Ids from the first id column of whole numbers in 0..2**63-1, or ``None``."""
    import pandas as pd

    for column in ID_COLUMNS:
        if column in table.columns:
            ids = pd.to_numeric(table[column], errors="coerce")
            whole = ids.notna().all() and (ids == ids.round()).all()
            if whole and ((ids >= 0) & (ids < 2**63)).all():
                return [int(value) for value in ids]
    return None


def _movie(title: str, row: Mapping[Hashable, Any], tmdb_column: str) -> Movie:
    """The movie of a row, with the id 0 until its id is known."""
    return Movie(
        movie_id=0,
        title=title,
        year=_year(row),
        genres=_names(row.get("genres")),
        overview=_text(row.get("overview")),
        cast=_names(row.get("cast")),
        producer=_text(row.get("producer")),
        popularity=_popularity(row),
        vote_average=_within(_number(row.get("vote_average")), 0.0, 10.0),
        vote_count=_within(_whole(row.get("vote_count")), 0, 2**63 - 1),
        release_date=_date(row.get("release_date")),
        tmdb_id=_within(_whole(row.get(tmdb_column)), 1, 2**63 - 1),
        imdb_id=_imdb_id(row.get("imdb_id")),
        runtime=_within(_whole(row.get("runtime")), 1, 10_000),
    )


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return " ".join(str(value).split())


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _whole(value: Any) -> int | None:
    number = _number(value)
    return int(number) if number is not None and number.is_integer() else None


def _within(number: N | None, low: N, high: N) -> N | None:
    return number if number is not None and low <= number <= high else None


def _date(value: Any) -> str | None:
    text = _text(value)[:10]
    try:
        return date.fromisoformat(text).isoformat() if len(text) == 10 else None
    except ValueError:
        return None


def _imdb_id(value: Any) -> str | None:
    text = _text(value)
    return text if IMDB_ID.fullmatch(text) else None


def _popularity(row: Mapping[Hashable, Any]) -> float | None:
    """TMDB's vote count where present (what ranking measured best), else ``popularity``."""
    votes = _number(row.get("vote_count"))
    return votes if votes is not None else _number(row.get("popularity"))


def _year(row: Mapping[Hashable, Any]) -> int | None:
    for raw in (row.get("year"), _text(row.get("release_date"))[:4]):
        number = _number(raw)
        if number is not None and 1870 <= number <= 2100:
            return int(number)
    return None


def _names(value: Any) -> tuple[str, ...]:
    """Names from ``"A, B"``, a JSON list such as TMDB's ``[{"name": "A"}]``, or a list."""
    if isinstance(value, str) and value.lstrip().startswith("["):
        with suppress(json.JSONDecodeError):
            value = json.loads(value)
    if isinstance(value, str):
        items: Iterable[Any] = value.split(",")
    elif hasattr(value, "__iter__") and not isinstance(value, (bytes, dict)):
        items = value
    else:
        items = [] if value is None else [value]
    names = (_text(item.get("name") if isinstance(item, dict) else item) for item in items)
    return tuple(name for name in names if name)
