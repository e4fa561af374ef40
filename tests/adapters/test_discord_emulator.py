"""The Discord emulator, driven by the real discord.py library (a tiny AutoShardedBot)."""

from __future__ import annotations

import asyncio
import io
import math
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any, TypeVar, cast

import aiohttp
import discord
import pytest
import yarl
from discord import app_commands
from discord.ext import commands
from discord.gateway import DiscordWebSocket

from testing.discord_api import APPLICATION_ID, BOT_USER_ID, TOKEN, FakeDiscord
from testing.waiting import wait_until

ALICE = 1100000000000001001
BOB = 1100000000000001002
GUILD = 1100000000000000500
LOADING = 1 << 7
ClientT = TypeVar("ClientT", bound=discord.Client)


class Pick(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=r"pick:(?P<id>\d+)"
):
    """A button that survives restarts: its custom_id carries the movie."""

    def __init__(self, movie: int) -> None:
        super().__init__(discord.ui.Button(label=f"Pick {movie}", custom_id=f"pick:{movie}"))
        self.movie = movie

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> Pick:
        return cls(int(match["id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        tiny(interaction).picked.append((interaction.user.id, self.movie))
        await interaction.response.edit_message(content=f"picked {self.movie}", view=None)


class Hide(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=r"hide:(?P<id>\d+)"
):
    """A button answered with a deferred update, then an edit of the pressed message."""

    def __init__(self, movie: int) -> None:
        super().__init__(discord.ui.Button(label="Hide", custom_id=f"hide:{movie}"))

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> Hide:
        return cls(int(match["id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer()
        await interaction.edit_original_response(content="hidden", view=None)


@app_commands.command(description="Repeat a text.")
async def echo(
    interaction: discord.Interaction, text: str, times: int = 1, quiet: bool = False
) -> None:
    await interaction.response.send_message(" ".join([text] * times), ephemeral=quiet)


@app_commands.command(description="Think, then answer in two followups.")
async def slow(interaction: discord.Interaction, attach: bool = False) -> None:
    await interaction.response.defer(thinking=True)
    files = [discord.File(io.BytesIO(b"notes"), "notes.txt")] if attach else []
    await interaction.followup.send("done", files=files)
    await interaction.followup.send("and more")


@app_commands.command(description="Answer the same interaction twice.")
async def twice(interaction: discord.Interaction) -> None:
    await interaction.response.send_message("first")
    errors = tiny(interaction).errors
    try:
        await interaction.response.send_message("again")
    except discord.InteractionResponded as error:
        errors.append(error)
    try:  # a second responder that the library cannot stop: Discord refuses it
        await discord.InteractionResponse(interaction).send_message("behind its back")
    except discord.HTTPException as error:
        errors.append(error)


@app_commands.command(description="Edit and delete its own messages.")
async def revise(interaction: discord.Interaction) -> None:
    await interaction.response.send_message("draft")
    draft = await interaction.original_response()
    await interaction.edit_original_response(content=f"{draft.content} -> final")
    note = await interaction.followup.send("note", wait=True)
    await note.edit(content="edited note")
    extra = await interaction.followup.send("extra", wait=True)
    await extra.delete()


@app_commands.command(description="Offer a movie to pick.")
async def offer(interaction: discord.Interaction) -> None:
    view = discord.ui.View(timeout=None)
    view.add_item(Pick(42))
    view.add_item(Hide(42))
    await interaction.response.send_message("choose", view=view)


class TinyBot(commands.AutoShardedBot):
    """Four global commands, one guild command and two dynamic buttons."""

    def __init__(self) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=discord.Intents(guilds=True),
            help_command=None,
            guild_ready_timeout=0.01,
        )
        self.synced: list[app_commands.AppCommand] = []
        self.picked: list[tuple[int, int]] = []
        self.errors: list[Exception] = []

    async def setup_hook(self) -> None:
        self.add_dynamic_items(Pick, Hide)
        for command in (echo, slow, twice, revise):
            self.tree.add_command(command)
        self.tree.add_command(offer, guild=discord.Object(GUILD))
        self.synced = await self.tree.sync()
        self.synced += await self.tree.sync(guild=discord.Object(GUILD))


def tiny(interaction: discord.Interaction) -> TinyBot:
    return cast(TinyBot, interaction.client)


@asynccontextmanager
async def running(client: ClientT) -> AsyncIterator[ClientT]:
    """``client.start(TOKEN)`` as a task until the block ends; ready when it is entered."""
    task = asyncio.create_task(client.start(TOKEN))
    try:
        await wait_until(lambda: client.is_ready() or task.done(), 5)
        assert client.is_ready(), "the client stopped before it was ready"
        yield client
    finally:
        await client.close()
        await asyncio.wait_for(task, 5)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeDiscord]:
    with FakeDiscord() as server:
        monkeypatch.setattr(discord.http.Route, "BASE", server.api_base)
        yield server


@pytest.fixture
async def bot(fake: FakeDiscord) -> AsyncIterator[TinyBot]:
    async with running(TinyBot()) as client:
        yield client


async def test_login_gateway_and_command_sync(fake: FakeDiscord, bot: TinyBot) -> None:
    assert bot.user is not None
    assert bot.user.id == BOT_USER_ID
    assert bot.application_id == APPLICATION_ID
    assert bot.shard_count == 1
    assert [call.route for call in fake.calls()] == [
        "get_current_user",
        "get_application",
        "put_global_commands",
        "put_guild_commands",
        "get_gateway_bot",
        "gateway_connect",
        "identify",
    ]
    connect = fake.calls("gateway_connect")[0]
    assert connect.query == {"v": "10", "encoding": "json", "compress": "zlib-stream"}
    identify = fake.calls("identify")[0].body
    assert (identify["shard"], identify["intents"]) == ([0, 1], discord.Intents(guilds=True).value)
    await wait_until(lambda: math.isfinite(bot.latency))  # a heartbeat was acknowledged

    names = sorted(command["name"] for command in fake.commands())
    assert names == ["echo", "revise", "slow", "twice"]
    [guild_command] = fake.commands(GUILD)
    assert (guild_command["name"], guild_command["guild_id"]) == ("offer", str(GUILD))
    stored = fake.commands() + fake.commands(GUILD)
    assert {command.id for command in bot.synced} == {int(c["id"]) for c in stored}
    echo_command = next(c for c in stored if c["name"] == "echo")
    options = [(o["name"], o["type"], o.get("required", False)) for o in echo_command["options"]]
    assert options == [("text", 3, True), ("times", 4, False), ("quiet", 5, False)]

    fetched = await bot.tree.fetch_commands(guild=discord.Object(GUILD))
    assert [command.id for command in fetched] == [int(guild_command["id"])]
    await bot.tree.sync()  # syncing again keeps the ids, as Discord does
    assert [c["id"] for c in fake.commands()] == [c["id"] for c in stored[:4]]
    assert [c.id for c in await bot.tree.fetch_commands()] == [int(c["id"]) for c in stored[:4]]


@pytest.mark.parametrize(("guild_id", "quiet"), [(None, False), (GUILD, True)])
async def test_a_slash_command_is_answered(
    fake: FakeDiscord, bot: TinyBot, guild_id: int | None, quiet: bool
) -> None:
    interaction_id = fake.slash(
        ALICE, "echo", {"text": "hi", "times": 2, "quiet": quiet}, guild_id=guild_id
    )

    answers = await wait_until(lambda: fake.answers(interaction_id))
    assert [(a.kind, a.type, a.content, a.ephemeral) for a in answers] == [
        ("callback", 4, "hi hi", quiet)
    ]
    sent = fake.interaction(interaction_id)
    assert sent["data"]["options"] == [
        {"name": "text", "type": 3, "value": "hi"},
        {"name": "times", "type": 4, "value": 2},
        {"name": "quiet", "type": 5, "value": quiet},
    ]
    assert ("member" in sent, "user" in sent) == (guild_id is not None, guild_id is None)
    message = fake.message_of(interaction_id)
    assert message is not None
    assert message["content"] == "hi hi"
    assert message["author"]["id"] == str(BOT_USER_ID)
    assert message["interaction_metadata"]["user"]["id"] == str(ALICE)
    assert fake.calls("interaction_callback")[0].query == {"with_response": "1"}


async def test_a_defer_comes_first_and_the_first_followup_fills_it(
    fake: FakeDiscord, bot: TinyBot
) -> None:
    interaction_id = fake.slash(ALICE, "slow", {"attach": True})

    answers = await wait_until(lambda: len(fake.answers(interaction_id)) == 3)
    answers = fake.answers(interaction_id)
    assert [(a.kind, a.type, a.content) for a in answers] == [
        ("callback", 5, ""),
        ("followup", None, "done"),
        ("followup", None, "and more"),
    ]
    assert answers[0].at <= answers[1].at <= answers[2].at
    assert answers[1].message_id == answers[0].message_id  # the loading message, filled
    assert answers[1].attachments == ["notes.txt"]  # sent as multipart with payload_json
    assert fake.calls("followup")[0].body["attachments"] == [{"id": 0, "filename": "notes.txt"}]
    original = fake.message_of(interaction_id)
    assert original is not None
    assert (original["content"], original["flags"] & LOADING) == ("done", 0)
    assert [m["content"] for m in fake.followups(interaction_id)] == ["and more"]
    last = fake.last_message(interaction_id)
    assert last is not None
    assert last["content"] == "and more"


async def test_a_press_reaches_the_dynamic_item(fake: FakeDiscord, bot: TinyBot) -> None:
    interaction_id = fake.slash(ALICE, "offer", guild_id=GUILD)
    offered = await wait_until(lambda: fake.message_of(interaction_id))
    assert offered["components"][0]["components"][0]["custom_id"] == "pick:42"

    press_id = fake.press(BOB, offered, "pick:42")

    answers = await wait_until(lambda: fake.answers(press_id))
    assert [(a.kind, a.type, a.content, a.components) for a in answers] == [
        ("callback", 7, "picked 42", [])
    ]
    assert bot.picked == [(BOB, 42)]
    assert fake.interaction(press_id)["member"]["user"]["id"] == str(BOB)
    updated = fake.message_of(interaction_id)
    assert updated is not None
    assert updated == fake.message_of(press_id)
    assert (updated["id"], updated["content"]) == (offered["id"], "picked 42")
    with pytest.raises(ValueError, match="no button"):
        fake.press(BOB, updated, "pick:42")  # the edit removed the button


async def test_a_deferred_update_then_an_edit_of_the_pressed_message(
    fake: FakeDiscord, bot: TinyBot
) -> None:
    interaction_id = fake.slash(ALICE, "offer", guild_id=GUILD)
    offered = await wait_until(lambda: fake.message_of(interaction_id))

    press_id = fake.press(ALICE, offered, "hide:42")

    answers = await wait_until(lambda: len(fake.answers(press_id)) == 2)
    answers = fake.answers(press_id)
    assert [(a.kind, a.type, a.message_id, a.content) for a in answers] == [
        ("callback", 6, None, None),
        ("edit", None, offered["id"], "hidden"),
    ]
    hidden = fake.message_of(interaction_id)
    assert hidden is not None
    assert (hidden["content"], hidden["components"]) == ("hidden", [])
    assert hidden["edited_timestamp"] is not None


async def test_the_bot_reads_edits_and_deletes_its_messages(
    fake: FakeDiscord, bot: TinyBot
) -> None:
    interaction_id = fake.slash(ALICE, "revise")

    await wait_until(lambda: [a.kind for a in fake.answers(interaction_id)][-1:] == ["delete"])
    answers = fake.answers(interaction_id)
    assert [(a.kind, a.content) for a in answers] == [
        ("callback", "draft"),
        ("edit", "draft -> final"),
        ("followup", "note"),
        ("edit", "edited note"),
        ("followup", "extra"),
        ("delete", None),
    ]
    assert answers[1].message_id == answers[0].message_id
    assert answers[3].message_id == answers[2].message_id
    assert [call.route for call in fake.calls() if call.route.endswith("webhook_message")] == [
        "get_webhook_message",
        "edit_webhook_message",
        "edit_webhook_message",
        "delete_webhook_message",
    ]
    original = fake.message_of(interaction_id)
    assert original is not None
    assert original["content"] == "draft -> final"
    assert [m["content"] for m in fake.followups(interaction_id)] == ["edited note"]


async def test_direct_messages_and_a_closed_dm(fake: FakeDiscord, bot: TinyBot) -> None:
    channel = await bot.create_dm(discord.Object(ALICE))
    sent = await channel.send("hello")
    assert [(int(m["id"]), m["content"]) for m in fake.dms(ALICE)] == [(sent.id, "hello")]
    with pytest.raises(discord.HTTPException) as empty:
        await channel.send("")
    with pytest.raises(discord.HTTPException) as long:
        await channel.send("x" * 2001)
    assert (empty.value.code, long.value.code) == (50006, 50035)
    assert "content: Must be 2000 or fewer in length." in long.value.text

    fake.close_dms(BOB)
    closed = await bot.create_dm(discord.Object(BOB))
    with pytest.raises(discord.Forbidden) as refused:
        await closed.send("hello?")
    assert (refused.value.status, refused.value.code) == (403, 50007)
    assert fake.dms(BOB) == []


async def test_a_rate_limited_followup_is_retried(fake: FakeDiscord, bot: TinyBot) -> None:
    fake.fail_next("followup", status=429, retry_after=0.1)
    interaction_id = fake.slash(ALICE, "slow")

    await wait_until(lambda: len(fake.answers(interaction_id)) == 3)
    followups = fake.calls("followup")
    assert [call.status for call in followups] == [429, 200, 200]
    assert followups[1].at - followups[0].at >= 0.1
    original = fake.message_of(interaction_id)
    assert original is not None
    assert original["content"] == "done"


async def test_a_rate_limit_is_retried_and_a_server_error_surfaces(
    fake: FakeDiscord, bot: TinyBot
) -> None:
    channel = await bot.create_dm(discord.Object(ALICE))
    fake.fail_next("create_message", status=429, retry_after=0.05)
    await channel.send("late")
    fake.fail_next("create_message", status=503)
    with pytest.raises(discord.DiscordServerError):
        await channel.send("lost")

    assert [call.status for call in fake.calls("create_message")] == [429, 200, 503]
    assert [m["content"] for m in fake.dms(ALICE)] == ["late"]


async def test_a_second_callback_is_refused(fake: FakeDiscord, bot: TinyBot) -> None:
    interaction_id = fake.slash(ALICE, "twice")

    await wait_until(lambda: len(bot.errors) == 2)
    responded, refused = bot.errors
    assert isinstance(responded, discord.InteractionResponded)
    assert isinstance(refused, discord.HTTPException)
    assert (refused.status, refused.code) == (400, 40060)
    assert [call.status for call in fake.calls("interaction_callback")] == [200, 400]
    assert [(a.kind, a.content) for a in fake.answers(interaction_id)] == [("callback", "first")]


async def test_slash_only_sends_what_a_person_could(fake: FakeDiscord, bot: TinyBot) -> None:
    with pytest.raises(LookupError, match="not synced"):
        fake.slash(ALICE, "offer")  # a guild command, used outside its guild
    with pytest.raises(ValueError, match="needs the options"):
        fake.slash(ALICE, "echo")
    with pytest.raises(ValueError, match="no option"):
        fake.slash(ALICE, "echo", {"txt": "hi"})
    with pytest.raises(TypeError, match="of type 3"):
        fake.slash(ALICE, "echo", {"text": 3})
    assert fake.calls("interaction_callback") == []


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/users/@me", 401, 0),  # without the bot's token
        ("GET", "/guilds/1", 404, 0),  # not emulated
        ("PUT", "/applications/1/commands", 403, 50001),  # someone else's application
        ("POST", f"/webhooks/{APPLICATION_ID}/no-such-token", 404, 10015),
        ("POST", "/interactions/1/no-such-token/callback", 404, 10062),
        ("POST", "/channels/1/messages", 404, 10003),
    ],
)
async def test_rest_errors_use_discords_envelope(
    fake: FakeDiscord, method: str, path: str, status: int, code: int
) -> None:
    headers = {} if path == "/users/@me" else {"Authorization": f"Bot {TOKEN}"}
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, fake.api_base + path, json=[], headers=headers) as response,
    ):
        assert (response.status, response.content_type) == (status, "application/json")
        assert (await response.json())["code"] == code


async def test_a_wrong_token_fails_login(fake: FakeDiscord) -> None:
    async with TinyBot() as client:
        with pytest.raises(discord.LoginFailure):
            await client.login("not-the-token")
    assert [call.status for call in fake.calls()] == [401]


async def test_a_plain_client_uses_the_default_gateway(
    fake: FakeDiscord, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(fake.gateway_url))
    client = discord.Client(intents=discord.Intents(guilds=True), guild_ready_timeout=0.01)
    async with running(client):
        assert client.user is not None
        assert client.user.id == BOT_USER_ID
    routes = [call.route for call in fake.calls()]
    assert routes == ["get_current_user", "get_application", "gateway_connect", "identify"]


async def test_the_gateway_protocol_and_shutdown() -> None:
    fake = FakeDiscord()
    fake.start()
    stopping: asyncio.Future[None] | None = None
    try:
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(fake.gateway_url) as ws:
                await ws.receive_json(timeout=2)
                await ws.send_json({"op": 2, "d": {"token": "wrong", "properties": {}}})
                refused = await ws.receive(timeout=2)
            assert (refused.type, refused.data) == (aiohttp.WSMsgType.CLOSE, 4004)

            async with session.ws_connect(fake.gateway_url) as ws:
                hello = await ws.receive_json(timeout=2)
                assert (hello["op"], hello["d"]["heartbeat_interval"]) == (10, 41250)
                await ws.send_json({"op": 1, "d": None})
                assert (await ws.receive_json(timeout=2))["op"] == 11
                await ws.send_json({"op": 2, "d": {"token": TOKEN, "properties": {}}})
                ready = await ws.receive_json(timeout=2)
                assert (ready["op"], ready["t"], ready["s"]) == (0, "READY", 1)
                assert ready["d"]["user"]["id"] == str(BOT_USER_ID)
                assert ready["d"]["application"] == {"id": str(APPLICATION_ID), "flags": 0}
                assert fake.connected.is_set()

                stopping = asyncio.ensure_future(asyncio.to_thread(fake.stop))
                closing = await ws.receive(timeout=2)
                assert (closing.type, closing.data) == (aiohttp.WSMsgType.CLOSE, 1001)
                await stopping
    finally:
        if stopping is None:
            fake.stop()
