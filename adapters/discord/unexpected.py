"""The last answer of an interaction that failed unexpectedly: never a "thinking..."
that hangs, never silence."""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands

from adapters import i18n, texts
from adapters.observe import report_unexpected

log = logging.getLogger(__name__)
# Codes of an interaction nobody can answer any more: answered already (a redelivery),
# or older than Discord's 15 minutes.
ALREADY_ACKNOWLEDGED = 40060
UNKNOWN_INTERACTION = 10062


async def answer_unexpected(interaction: discord.Interaction[Any], error: BaseException) -> None:
    """Log ``error`` under an error id and tell the user, only them, to try again, unless
    the interaction cannot be answered any more."""
    error_id = report_unexpected(error, "discord")
    closed = (ALREADY_ACKNOWLEDGED, UNKNOWN_INTERACTION)
    if not (isinstance(error, discord.HTTPException) and error.code in closed):
        await answer_privately(
            interaction, texts.something_went_wrong(reported(interaction), error_id)
        )


async def answer_privately(interaction: discord.Interaction[Any], text: str) -> None:
    """``text`` only the user sees: the response, or a follow-up once the interaction
    was answered or deferred (which the follow-up resolves)."""
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True)
        else:
            await interaction.response.send_message(text, ephemeral=True)
    except discord.DiscordException as failure:
        log.warning("could not tell a user that their request failed: %s", failure)


def reported(interaction: discord.Interaction[Any]) -> i18n.Words:
    """The words of the language of the user's Discord client (no store is asked: the
    request failed, the store may be why)."""
    return i18n.words(i18n.language_of(interaction.locale.value))


class MovieTree(app_commands.CommandTree[Any]):
    """The slash commands, with an answer to every failure: an option Discord should have
    refused gets a short reply, anything else the error id."""

    async def on_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError, /
    ) -> None:
        if isinstance(error, app_commands.TransformerError):
            await answer_privately(interaction, reported(interaction).gettext(texts.BAD_OPTION))
            return
        if isinstance(error, app_commands.CheckFailure):  # the check (a limit) answered
            return
        cause = error.original if isinstance(error, app_commands.CommandInvokeError) else error
        await answer_unexpected(interaction, cause)
