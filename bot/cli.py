"""The ``moviebot`` command."""

from __future__ import annotations

import asyncio
import hashlib
import json
import signal
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text
from threadpoolctl import threadpool_limits

from adapters.console import ConsoleChat, console_user
from adapters.i18n import LANGUAGES
from bot.app import (
    build_sample_index,
    button_codec,
    configured_platforms,
    embedding_cache,
    has_index,
    index_params,
    make_demo_backend,
    make_embedder,
    make_redis_backend,
    open_recommender,
    serve,
    weekly_push,
)
from bot.config import EmbedderKind, Platform, Settings
from bot.logs import configure_logging
from bot.platforms import senders
from bot.terminal import (
    console,
    embedding_progress,
    errors,
    friendly_errors,
    group_table,
    logged_errors,
    progress_bars,
)
from core.catalog import SAMPLE, load_catalog
from core.embedders import OnnxEmbedder
from core.embedding_cache import embed_documents_cached
from core.errors import MovieBotError
from core.evaluation import EvaluationReport, evaluate, standard_strategies
from core.group_evaluation import evaluate_groups, group_strategies
from core.index import MovieIndex, build_index
from core.languages import Languages
from core.models import Movie, Vectors
from core.ports import Backend
from core.ranking import RankingWeights
from core.ratings import histories, load_picks
from core.recommender import Recommender
from core.sample import write_shipped_vectors
from core.stores.migration import ReindexReport, reindex_profiles
from core.stores.redis import RedisBackend
from core.taste import TasteSettings
from core.text import document_text

app = typer.Typer(help="moviebot: movie recommendations from a taste vector.", no_args_is_help=True)


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
    with friendly_errors():
        catalog = load_catalog(source)
        console.print(
            f"{len(catalog)} movies from {source}"
            f" ({catalog.dropped_untitled} rows without a title,"
            f" {catalog.dropped_duplicate_ids} duplicate ids left out)"
        )
        model = make_embedder(embedder or settings.embedding.embedder, settings)
        with embedding_progress() as on_progress:
            index = build_index(
                catalog, model, index_params(settings), embedding_cache(settings), on_progress
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
    with friendly_errors():
        hits = asyncio.run(open_recommender(Settings(), index_dir).search(text, k))
    table = Table("title", "year", "genres", "score")
    for hit in hits:
        movie = hit.movie
        table.add_row(
            Text(movie.title), str(movie.year or ""), ", ".join(movie.genres), f"{hit.score:.3f}"
        )
    console.print(table)


@app.command()
def run(
    platform: Annotated[
        Platform | None,
        typer.Option(help="Serve only this platform (default: every one with a token)."),
    ] = None,
) -> None:
    """Serve the chat platforms that have a token (MOVIEBOT_TELEGRAM_TOKEN,
    MOVIEBOT_DISCORD_TOKEN), all in one process."""
    settings = Settings()
    platforms = configured_platforms(settings)
    if platform is not None and platform not in platforms:
        errors.print(f"{platform} has no token: set MOVIEBOT_{platform.upper()}_TOKEN")
        raise typer.Exit(1)
    if not platforms:
        errors.print(
            "No chat platform is configured: set MOVIEBOT_TELEGRAM_TOKEN (a token from "
            "@BotFather) or MOVIEBOT_DISCORD_TOKEN, and MOVIEBOT_SECRET. To try the bot "
            "without one: moviebot demo"
        )
        raise typer.Exit(1)
    with friendly_errors():
        if not has_index(settings.index.dir):
            _build_sample_index_once(settings)
    configure_logging(settings)
    with friendly_errors(), logged_errors():
        asyncio.run(_serve_until_signalled(settings, [platform] if platform else platforms))


async def _serve_until_signalled(settings: Settings, platforms: list[Platform]) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signal_number, stop.set)
    await serve(settings, platforms, stop)


@app.command()
def demo() -> None:
    """Chat in the terminal: search, pick, recommend, explore. No services needed."""
    settings = Settings()
    with friendly_errors():
        if not has_index(settings.index.dir):
            _build_sample_index_once(settings)
        backend = make_demo_backend(settings)
        recommender = open_recommender(settings, store=backend.store)
    languages = Languages(backend.store, LANGUAGES)
    chat = ConsoleChat(recommender, console_user(), console, languages=languages)
    chat.run_until_exit(backend.close)


def _build_sample_index_once(settings: Settings) -> None:
    console.print(f"First run: indexing the bundled sample catalog into {settings.index.dir}")
    with embedding_progress() as on_progress:
        index = build_sample_index(settings, on_progress)
    console.print(f"{len(index)} movies indexed; later runs reuse this index.")


@app.command("ship-sample-vectors", hidden=True)
def ship_sample_vectors() -> None:
    """Embed the bundled sample catalog with the default model and write the vectors that
    ship beside it (after the catalog, the document template or the model changed)."""
    with friendly_errors():
        embedder = OnnxEmbedder()
        texts = [document_text(movie) for movie in load_catalog(SAMPLE).movies]
        written = write_shipped_vectors(embedder.name, texts, embedder.embed_documents(texts))
    console.print(f"wrote {written}: {len(texts)} vectors of {embedder.name}")


@app.command("eval")
def eval_command(
    catalog: Annotated[str, typer.Option(help="Catalog with TMDB ids (movies.parquet).")],
    ratings: Annotated[Path, typer.Option(help="MovieLens ratings.csv.")],
    links: Annotated[Path, typer.Option(help="MovieLens links.csv (movieId -> tmdbId).")],
    index_dir: Annotated[
        Path | None, typer.Option("--index", help="Use this index's vectors.")
    ] = None,
    groups: Annotated[
        bool, typer.Option("--groups", help="Score movie-night lists of random groups instead.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="End with one JSON line.")] = False,
) -> None:
    """Replay real users' liked movies and score each recommendation strategy."""
    settings = Settings()
    with friendly_errors():
        movies, vectors = _catalog_vectors(settings, catalog, index_dir)
        picks = load_picks(ratings, links, [movie.movie_id for movie in movies])
        taste = TasteSettings()
        # One BLAS thread: the replay is many small products, which threads only slow.
        with threadpool_limits(1):
            if groups:
                group_report = evaluate_groups(movies, vectors, picks, group_strategies())
                table, summary = group_table(group_report), group_report.as_json()
            else:
                strategies = standard_strategies(
                    taste.ema_weight, taste.half_life_days, RankingWeights()
                )
                report = evaluate(movies, vectors, picks, strategies)
                table, summary = _report_table(report), report.as_json()
    console.print(table)
    if as_json:
        print(json.dumps(summary))


def _catalog_vectors(
    settings: Settings, source: str, index_dir: Path | None
) -> tuple[tuple[Movie, ...], Vectors]:
    if index_dir is not None:
        index = MovieIndex.load(index_dir)
        return index.movies, index.all_vectors()
    movies = load_catalog(source).movies
    embedder = make_embedder(settings.embedding.embedder, settings)
    texts = [document_text(movie) for movie in movies]
    with progress_bars() as progress:
        task = progress.add_task("embedding", total=len(texts))
        vectors = embed_documents_cached(
            embedder,
            texts,
            embedding_cache(settings),
            on_progress=lambda done, _: progress.update(task, completed=done),
        )
    return movies, vectors


def _report_table(report: EvaluationReport) -> Table:
    table = Table(
        "strategy",
        "HR@10",
        "NDCG@10",
        "coverage",
        "diversity",
        title=f"{report.users} users, {report.events} predictions",
    )
    for scores in report.strategies:
        table.add_row(
            scores.name,
            f"{scores.hr10:.4f}",
            f"{scores.ndcg10:.4f}",
            f"{scores.coverage:.3f}",
            f"{scores.diversity:.3f}",
        )
    return table


@app.command("seed-community")
def seed_community_command(
    ratings: Annotated[Path, typer.Option(help="MovieLens ratings.csv.")],
    links: Annotated[Path, typer.Option(help="MovieLens links.csv (movieId -> tmdbId).")],
    min_rating: Annotated[float, typer.Option(help="The lowest rating that is a like.")] = 4.0,
    index_dir: Annotated[Path | None, typer.Option("--index", help="Index directory.")] = None,
) -> None:
    """Start the community from a public ratings file: its likes of the index's movies
    become anonymous pick and co-pick counts (no profiles). Running it again on the same
    files changes nothing."""
    settings = Settings()
    with friendly_errors():
        index = MovieIndex.load(index_dir or settings.index.dir)
        ids = [movie.movie_id for movie in index.movies]
        liked = histories(load_picks(ratings, links, ids, min_rating, min_likes=2))
        source = _digest(ratings, links, f"min-rating={min_rating:g}")
        added = asyncio.run(_seed(make_redis_backend(settings), source, liked))
    likes = sum(len(history) for history in liked)
    if added:
        console.print(f"added {likes} likes of {len(liked)} people as community counts")
    else:
        console.print(f"these files were added before ({source[:12]}): nothing changed")


async def _seed(backend: RedisBackend, source: str, liked: list[list[int]]) -> bool:
    try:
        return await backend.store.seed_community(source, liked)
    finally:
        await backend.close()


def _digest(*parts: Path | str) -> str:
    """A sha256 over files' bytes and strings, in order."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.read_bytes() if isinstance(part, Path) else part.encode())
    return digest.hexdigest()


@app.command("reindex-profiles")
def reindex_profiles_command(
    index_dir: Annotated[Path | None, typer.Option("--index", help="Index directory.")] = None,
) -> None:
    """Move every taste profile in Redis to the current index; run it after a rebuild."""
    settings = Settings()
    with friendly_errors():
        index = MovieIndex.load(index_dir or settings.index.dir)
        report = asyncio.run(_reindex(make_redis_backend(settings), index))
    console.print(
        f"{report.profiles} profiles: {report.unchanged} already on index {index.fingerprint}, "
        f"{report.kept_vector} kept their vector, {report.rebuilt_vector} rebuilt from their picks"
    )


async def _reindex(backend: RedisBackend, index: MovieIndex) -> ReindexReport:
    try:
        return await reindex_profiles(backend.store, index)
    finally:
        await backend.close()


@app.command()
def push(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show who would get which movies; send nothing.")
    ] = False,
    now: Annotated[
        bool, typer.Option("--now", help="Send the pushes that are due now, and stop.")
    ] = False,
    at: Annotated[
        datetime | None,
        typer.Option(help="With --dry-run: plan as of this UTC time instead of now."),
    ] = None,
) -> None:
    """The weekly picks, by hand: who would get what, or send what is due now.

    `moviebot run` sends them on its own; this needs the profiles in Redis.
    """
    if dry_run == now:
        errors.print("Choose one: --dry-run (show, send nothing) or --now (send what is due).")
        raise typer.Exit(2)
    settings = Settings()
    moment = (at or datetime.now(UTC)).replace(tzinfo=UTC) if dry_run else datetime.now(UTC)
    with friendly_errors():
        asyncio.run(_push(settings, moment, send=now))


async def _push(settings: Settings, moment: datetime, send: bool) -> None:
    backend = make_redis_backend(settings)
    try:
        recommender = open_recommender(settings, store=backend.store)
        if send:
            await _send_push(settings, recommender, backend, moment)
        else:
            await _show_push(settings, recommender, backend, moment)
    finally:
        await backend.close()


async def _show_push(
    settings: Settings, recommender: Recommender, backend: Backend, moment: datetime
) -> None:
    table = Table(
        "user", "week", "movies", title=f"Weekly picks due at {moment:%Y-%m-%d %H:%M} UTC"
    )
    planned = weekly_push(settings, recommender, backend.store, [], backend.push_ledger)
    count = 0
    async for batch in planned.plan(moment, platforms=[platform.value for platform in Platform]):
        for push in batch:
            table.add_row(push.user.key, push.week, "; ".join(p.movie.label for p in push.picks))
        count += len(batch)
    console.print(table)
    console.print(f"{count} users would get their weekly picks; nothing was sent.")


async def _send_push(
    settings: Settings, recommender: Recommender, backend: Backend, moment: datetime
) -> None:
    codec = button_codec(settings, recommender.index)
    languages = Languages(backend.store, LANGUAGES)
    async with senders(settings, codec, languages) as notifiers:
        if not notifiers:
            raise MovieBotError("set MOVIEBOT_TELEGRAM_TOKEN or MOVIEBOT_DISCORD_TOKEN to send")
        push = weekly_push(settings, recommender, backend.store, notifiers, backend.push_ledger)
        report = await push.run(moment)
    if not report.leader:
        console.print("Another bot process is sending the weekly picks right now; nothing done.")
        return
    console.print(
        f"{report.sent} sent, {report.gone} unsubscribed (blocked the bot), "
        f"{report.failed} failed (tried again at the next check), "
        f"{report.skipped} already sent by another process"
    )
