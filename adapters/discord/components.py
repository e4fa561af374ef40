"""Buttons that keep working after a restart: the signed payload rides in ``custom_id``.

Discord sends a press back with the button's ``custom_id`` only. Every moviebot button
has the ``custom_id`` ``mb:<payload>`` (a payload of :mod:`adapters.buttons`, at most 36
characters, well under Discord's 100), so a :class:`PayloadButton` registered on the
client answers presses on any message the bot ever sent, whatever the process.
"""

from __future__ import annotations

import re
from typing import Any, Protocol, Self, runtime_checkable

import discord
from discord.ext import commands

from adapters.discord.unexpected import answer_unexpected

PREFIX = "mb:"
# Wider than a valid payload on purpose: a forged or outdated one must still reach the
# handler and get an answer, instead of silence.
CUSTOM_ID = re.compile(rf"{PREFIX}(?P<payload>[!-~]{{1,96}})")
PRESS_HANDLER_COG = "Movies"


@runtime_checkable
class PressHandler(Protocol):
    """What answers a pressed moviebot button: the cog named ``PRESS_HANDLER_COG``."""

    async def press(self, interaction: discord.Interaction[Any], payload: str) -> None: ...


class PayloadButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=CUSTOM_ID,
):
    """A button carrying a signed payload; a press goes to the client's PressHandler cog.
    A subclass with a ``template`` of its own names its ``prefix`` and ``handler_cog``."""

    prefix = PREFIX
    handler_cog = PRESS_HANDLER_COG

    def __init__(
        self,
        payload: str,
        label: str,
        style: discord.ButtonStyle = discord.ButtonStyle.secondary,
        row: int | None = None,
    ) -> None:
        button: discord.ui.Button[Any] = discord.ui.Button(
            label=label, style=style, custom_id=f"{self.prefix}{payload}", row=row
        )
        super().__init__(button, row=row)
        self.payload = payload

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> Self:
        label = getattr(item, "label", None) or "…"
        style = getattr(item, "style", discord.ButtonStyle.secondary)
        return cls(match["payload"], label, style, item.row)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        # discord.py only logs what a dynamic item's callback raises: it is answered here.
        client = interaction.client
        bots = commands.Bot | commands.AutoShardedBot
        handler = client.get_cog(self.handler_cog) if isinstance(client, bots) else None
        if isinstance(handler, PressHandler):
            try:
                await handler.press(interaction, self.payload)
            except Exception as error:
                await answer_unexpected(interaction, error)
