"""``moviebot`` with discord.py pointed at a Discord stand-in, as a process of its own.

    python -m testing.stand_in_bot <api base> <gateway url> run [options]

discord.py reads its REST base and gateway URL from class attributes, not settings;
everything else is the real command.
"""

from __future__ import annotations

import sys

import discord
import yarl
from discord.gateway import DiscordWebSocket

from bot.cli import app


def main() -> None:
    """Point discord.py at the stand-in, then run the command line that follows."""
    api_base, gateway_url, *arguments = sys.argv[1:]
    discord.http.Route.BASE = api_base
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
    app(arguments, prog_name="moviebot")


if __name__ == "__main__":
    main()
