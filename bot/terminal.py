"""What the ``moviebot`` command shows in the terminal besides its tables: progress bars,
and errors turned into one red line and an exit status."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

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

from adapters import texts
from adapters.i18n import SOURCE_LANGUAGE, words
from core.embedding_cache import ProgressCallback
from core.errors import InvalidRequestError, MovieBotError, RefusedTokenError
from core.group_evaluation import GroupReport

console = Console()
errors = Console(stderr=True)
log = logging.getLogger("bot.cli")  # the lines of the moviebot command name it


@contextmanager
def logged_errors() -> Iterator[None]:
    """Log any other exception through the logging set up by ``configure_logging``,
    which masks the secrets, and exit with status 1 (instead of a traceback that shows
    local variables, tokens among them)."""
    try:
        yield
    except MovieBotError:
        raise
    except Exception:
        log.exception("moviebot run stopped by an unexpected error")
        raise typer.Exit(1) from None


class RateColumn(ProgressColumn):
    """Movies embedded per second."""

    def render(self, task: Task) -> Text:
        return Text(f"{task.speed:.0f} movies/s" if task.speed else "- movies/s")


def progress_bars() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=errors,
    )


@contextmanager
def embedding_progress() -> Iterator[ProgressCallback]:
    """A progress bar on stderr, fed by the (done, total) callback it yields; it shows
    once the callback is called (nothing is embedded when every vector is at hand)."""
    with progress_bars() as progress:
        task = progress.add_task("embedding", total=None, visible=False)
        yield lambda done, total: progress.update(task, completed=done, total=total, visible=True)


@contextmanager
def friendly_errors() -> Iterator[None]:
    """Turn the core's typed errors into one red line and exit status 1 (2 for a token
    a platform refused)."""
    try:
        yield
    except RefusedTokenError as error:
        errors.print(f"[red]error:[/red] {error}", highlight=False)
        raise typer.Exit(2) from None
    except MovieBotError as error:
        message: object = error
        if isinstance(error, InvalidRequestError):
            message = texts.refusal(words(SOURCE_LANGUAGE), error)
        errors.print(f"[red]error:[/red] {message}", highlight=False)
        raise typer.Exit(1) from None


def group_table(report: GroupReport) -> Table:
    """``moviebot eval --groups``: each strategy's hit rate and members' percentiles."""
    table = Table(
        "strategy",
        "group hit rate",
        "worst member",
        "best member",
        title=f"{report.groups} groups, {report.members} members, lists of 10",
    )
    for scores in report.strategies:
        table.add_row(
            scores.name, f"{scores.hit_rate:.4f}", f"{scores.worst:.3f}", f"{scores.best:.3f}"
        )
    return table
