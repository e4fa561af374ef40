"""The ``moviebot`` command."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from bot.app import embedding_cache, index_params, make_embedder, open_recommender
from bot.config import EmbedderKind, Settings
from core.catalog import load_catalog
from core.errors import MovieBotError
from core.index import build_index

app = typer.Typer(help="moviebot: movie recommendations from a taste vector.", no_args_is_help=True)
console = Console()
errors = Console(stderr=True)


@app.callback()
def main() -> None:
    """moviebot: movie recommendations from a taste vector."""


@app.command("build-index")
def build_index_command(
    source: Annotated[
        str | None, typer.Option(help="sample, a .parquet/.csv/.csv.gz path, or an hf:// URL.")
    ] = None,
    embedder: Annotated[EmbedderKind | None, typer.Option(help="Embedding model.")] = None,
    out: Annotated[Path | None, typer.Option(help="Index directory.")] = None,
) -> None:
    """Embed a movie catalog and write its search index."""
    settings = Settings()
    source = source or settings.index.catalog
    out = out or settings.index.dir
    with _friendly_errors():
        catalog = load_catalog(source)
        console.print(
            f"{len(catalog)} movies from {source}"
            f" ({catalog.dropped_untitled} rows without a title,"
            f" {catalog.dropped_duplicate_ids} duplicate ids left out)"
        )
        model = make_embedder(embedder or settings.embedding.embedder, settings)
        with _progress() as progress:
            task = progress.add_task("embedding", total=len(catalog))
            index = build_index(
                catalog,
                model,
                index_params(settings),
                embedding_cache(settings),
                on_progress=lambda done, total: progress.update(task, completed=done),
            )
        index.save(out)
    manifest = index.manifest
    console.print(
        f"wrote {out}: {manifest.count} movies, {manifest.kind} index of {manifest.dim}-d "
        f"{manifest.embedder} vectors, fingerprint {manifest.fingerprint}"
    )


@app.command()
def search(
    text: Annotated[str, typer.Argument(help="What you feel like watching.")],
    k: Annotated[int, typer.Option("-k", min=1, max=20, help="How many movies.")] = 5,
    index_dir: Annotated[Path | None, typer.Option("--index", help="Index directory.")] = None,
) -> None:
    """Search the index with free text and print the closest movies."""
    with _friendly_errors():
        hits = asyncio.run(open_recommender(Settings(), index_dir).search(text, k))
    table = Table("title", "year", "genres", "score")
    for hit in hits:
        movie = hit.movie
        table.add_row(
            Text(movie.title), str(movie.year or ""), ", ".join(movie.genres), f"{hit.score:.3f}"
        )
    console.print(table)


class _RateColumn(ProgressColumn):
    """Movies embedded per second."""

    def render(self, task: Task) -> Text:
        return Text(f"{task.speed:.0f} movies/s" if task.speed else "- movies/s")


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _RateColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=errors,
    )


class _friendly_errors:  # noqa: N801 - used as a statement: `with _friendly_errors():`
    """Turn the core's typed errors into one red line and exit status 1."""

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, _: object
    ) -> bool:
        if isinstance(error, MovieBotError):
            errors.print(f"[red]error:[/red] {error}", highlight=False)
            raise typer.Exit(1)
        return False
