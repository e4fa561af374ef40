"""Load a movie catalog from the Hugging Face hub, a local file, or the bundled sample.

Every source is read into a table and normalized into :class:`Movie` values. Only the
``title`` column is required; ``overview``, ``genres``, ``cast``, ``producer``, a year
(``year`` or ``release_date``), a popularity (``vote_count``, else ``popularity``) and
an id (``movie_id``, ``tmdb_id`` or ``id``) are used when present.

pandas (and fsspec) are imported when a catalog is read, not with this module: the
running bot reads its index, never a catalog, and does without their memory.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Hashable, Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from functools import partial
from importlib import resources
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal

from core.errors import CatalogError
from core.models import Movie

if TYPE_CHECKING:
    import pandas as pd

COHERE_MOVIES = "hf://datasets/Cohere/movies/movies.parquet"
SAMPLE = "sample"
ID_COLUMNS = ("movie_id", "tmdb_id", "id")

TableReader = Callable[[Any], "pd.DataFrame"]


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
        found = ", ".join(map(str, table.columns)) or "none"
        raise CatalogError(f"{source} has no 'title' column (columns: {found})")
    records = table.to_dict("records")
    ids = _movie_ids(table)
    movies: list[Movie] = []
    seen: set[int] = set()
    untitled = duplicates = 0
    for movie_id, row in zip(ids, records, strict=True):
        title = _text(row.get("title"))
        if not title:
            untitled += 1
        elif movie_id in seen:
            duplicates += 1
        else:
            seen.add(movie_id)
            movies.append(_movie(movie_id, title, row))
    return Catalog(tuple(movies), source, untitled, duplicates)


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


def _movie_ids(table: pd.DataFrame) -> list[int]:
    """Ids from the first usable id column, else the row positions of the source."""
    import pandas as pd

    for column in ID_COLUMNS:
        if column in table.columns:
            ids = pd.to_numeric(table[column], errors="coerce")
            if ids.notna().all() and (ids == ids.round()).all():
                return [int(value) for value in ids]
    return list(range(len(table)))


def _movie(movie_id: int, title: str, row: Mapping[Hashable, Any]) -> Movie:
    return Movie(
        movie_id=movie_id,
        title=title,
        year=_year(row),
        genres=_names(row.get("genres")),
        overview=_text(row.get("overview")),
        cast=_names(row.get("cast")),
        producer=_text(row.get("producer")),
        popularity=_popularity(row),
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
