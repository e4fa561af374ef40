"""A local server that speaks enough of Discord's REST API and gateway for discord.py.

The real library talks to it once its base URL is patched (with pytest's ``monkeypatch``)::

    monkeypatch.setattr(discord.http.Route, "BASE", fake.api_base)
    # Only for a plain discord.Client, which skips GET /gateway/bot:
    monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(fake.gateway_url))

An ``AutoShardedClient`` (or ``commands.AutoShardedBot``) learns the gateway URL from
``GET /gateway/bot``. The gateway sends uncompressed JSON text frames: discord.py asks for
``compress=zlib-stream`` but only inflates binary frames.

    fake = FakeDiscord()
    fake.start()
    ...                                                   # bot.start(TOKEN) as a task
    await fake.wait_connected()                           # IDENTIFY answered with READY
    interaction_id = fake.slash(1001, "echo", {"text": "hi"}, guild_id=GUILD)
    typing = fake.autocomplete(1001, "search", {"text": "die h"}, "text", guild_id=GUILD)
    await wait_until(lambda: fake.answers(typing))           # its choices, in ``choices``
    await wait_until(lambda: fake.answers(interaction_id))   # what the bot answered
    fake.press(1001, fake.message_of(interaction_id), "pick:42")   # a button press
    fake.fail_next("followup", status=429, retry_after=0.2)        # discord.py retries
    fake.close_dms(1001)                                  # sending a DM answers 403/50007
    fake.stop()

REST routes, by the names ``calls``/``fail_next`` use: get_current_user, get_application,
get_gateway_bot, get_global_commands, put_global_commands, get_guild_commands,
put_guild_commands, interaction_callback, followup, get_webhook_message,
edit_webhook_message, delete_webhook_message, create_dm, create_message, edit_message
(and "unknown" for any other path, answered 404). The gateway connection is recorded as a
"gateway_connect" call (status 101) and each IDENTIFY as an "identify" call (200, or 4004
for a wrong token).

Interactions follow Discord's rules: a second callback answers 400/40060; followups and
webhook edits need an acknowledged interaction; after a deferred message (type 5) the
first followup fills the loading message, which stays the original response.
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import hashlib
import json
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, ClassVar

from aiohttp import WSCloseCode, WSMsgType, web

from testing.background_server import BackgroundServer
from testing.waiting import wait_until

JSON = dict[str, Any]

API = "/api/v10"
GATEWAY_PATH = "/gateway"
GLOBAL_COMMANDS = "/applications/{app}/commands"
GUILD_COMMANDS = "/applications/{app}/guilds/{guild}/commands"
CALLBACK = "/interactions/{interaction}/{token}/callback"
WEBHOOK = "/webhooks/{app}/{token}"
WEBHOOK_MESSAGE = WEBHOOK + "/messages/{message}"  # {message} may be "@original"
APPLICATION_ID = 1180000000000000001
BOT_USER_ID = 1180000000000000002
TOKEN = "MTE4MDAwMDAwMDAwMDAwMDAwMg.GfAkEd.discord-emulator-token"
BOT_USERNAME = "moviebot"

DISCORD_EPOCH_MS = 1_420_070_400_000
HEARTBEAT_INTERVAL_MS = 41_250
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024
NONCE_LENGTH = 25
CDN = "https://cdn.discordapp.com"
# VIEW_CHANNEL, SEND_MESSAGES, EMBED_LINKS, ATTACH_FILES, READ_MESSAGE_HISTORY,
# USE_APPLICATION_COMMANDS
PERMISSIONS = str((1 << 10) | (1 << 11) | (1 << 14) | (1 << 15) | (1 << 16) | (1 << 31))

# Gateway opcodes
DISPATCH, HEARTBEAT, IDENTIFY, HELLO, HEARTBEAT_ACK = 0, 1, 2, 10, 11
AUTHENTICATION_FAILED = 4004

# Interaction types and callback types
APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE = 2, 3, 4
CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE = 4, 5, 6, 7
AUTOCOMPLETE_RESULT = 8

# Limits of a message (https://discord.com/developers/docs/resources/message)
MAX_CONTENT, MAX_EMBEDS, MAX_EMBED_TOTAL, MAX_FIELDS = 2000, 10, 6000, 25
EMBED_TEXT_LIMITS = (("title", 256), ("description", 4096))
MAX_ROWS, MAX_ROW_COMPONENTS, MAX_CUSTOM_ID, MAX_LABEL = 5, 5, 100, 80
MAX_CHOICES, MAX_CHOICE_CHARS = 25, 100

# Message flags
SUPPRESS_EMBEDS = 1 << 2
EPHEMERAL = 1 << 6
LOADING = 1 << 7
SUPPRESS_NOTIFICATIONS = 1 << 12
IS_COMPONENTS_V2 = 1 << 15
CHANNEL_MESSAGE_FLAGS = SUPPRESS_EMBEDS | SUPPRESS_NOTIFICATIONS | IS_COMPONENTS_V2
INTERACTION_MESSAGE_FLAGS = CHANNEL_MESSAGE_FLAGS | EPHEMERAL

# Message types
DEFAULT_MESSAGE, CHAT_INPUT_COMMAND_MESSAGE = 0, 20

# Python type of a slash option value -> Discord option type (bool first: it is an int).
STRING, INTEGER, BOOLEAN, NUMBER = 3, 4, 5, 10
OPTION_TYPES: tuple[tuple[type, int], ...] = (
    (bool, BOOLEAN),
    (int, INTEGER),
    (float, NUMBER),
    (str, STRING),
)

WEBHOOK_ROUTES = frozenset(
    {
        "interaction_callback",
        "followup",
        "get_webhook_message",
        "edit_webhook_message",
        "delete_webhook_message",
    }
)


@dataclass(frozen=True)
class Call:
    """One request the server received, whatever its outcome (``status`` tells)."""

    method: str
    path: str  # under /api/v10, without the query string
    route: str
    body: Any  # the JSON body (payload_json for multipart), None without one
    status: int
    at: float  # time.monotonic()
    query: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Answer:
    """One thing the bot did with an interaction, as Discord accepted it.

    ``kind`` is "callback" (with its ``type``), "followup", "edit" or "delete"; the message
    fields describe the message right after that answer (empty for types 6 and "delete").
    ``at`` counts seconds from the moment the interaction was dispatched.
    """

    kind: str
    at: float
    type: int | None = None
    message_id: str | None = None
    content: str | None = None
    embeds: list[JSON] = field(default_factory=list)
    components: list[JSON] = field(default_factory=list)
    ephemeral: bool = False
    attachments: list[str] = field(default_factory=list)  # filenames
    choices: list[JSON] = field(default_factory=list)  # of an autocomplete result


@dataclass(frozen=True)
class _Upload:
    field: str  # e.g. "files[0]"
    filename: str
    content_type: str
    size: int


@dataclass
class _Request:
    match: dict[str, str]
    query: dict[str, str]
    body: Any
    files: list[_Upload]


@dataclass
class _Fault:
    status: int
    retry_after: float
    code: int | None


@dataclass
class _Interaction:
    payload: JSON
    dispatched_at: float
    callback_type: int | None = None
    original_id: str | None = None  # the message @original refers to
    followup_ids: list[str] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)

    @property
    def id(self) -> str:
        return str(self.payload["id"])

    @property
    def type(self) -> int:
        return int(self.payload["type"])


@dataclass
class _Session:
    ws: web.WebSocketResponse
    sequence: int = 0
    shard: tuple[int, int] | None = None  # set by IDENTIFY


class _ApiError(Exception):
    """Raised by a handler to answer with an error body (see ``_fail``)."""

    def __init__(self, status: int, body: JSON, headers: dict[str, str] | None = None) -> None:
        super().__init__(body["message"])
        self.status = status
        self.body = body
        # discord.py takes a 429 without "Via" for a Cloudflare ban and does not retry it.
        self.headers = {"Via": "1.1 google", **(headers or {})}


Handler = Callable[[_Request], tuple[int, Any]]


class FakeDiscord(BackgroundServer):
    """Serves ``/api/v10/...`` and the ``/gateway`` websocket from a background thread."""

    APPLICATION_ID: ClassVar[int] = APPLICATION_ID
    BOT_USER_ID: ClassVar[int] = BOT_USER_ID
    TOKEN: ClassVar[str] = TOKEN

    def __init__(self) -> None:
        super().__init__()
        self.connected = threading.Event()  # set when a client's IDENTIFY is answered
        self._lock = threading.Lock()
        self._last_id = 0
        self._calls: list[Call] = []
        self._sessions: list[_Session] = []
        self._commands: dict[str | None, list[JSON]] = {}
        self._interactions: dict[str, _Interaction] = {}
        self._users: dict[int, JSON] = {}
        self._channels: dict[str, JSON] = {}
        self._dm_channels: dict[int, str] = {}
        self._guild_channels: dict[int, str] = {}
        self._messages: dict[str, JSON] = {}
        self._nonces: dict[tuple[str, str], str] = {}
        self.send_latency = 0.0
        """Seconds a created message's answer takes to leave, after the message is stored."""
        self._faults: dict[str, deque[_Fault]] = {}
        self._closed_dms: set[int] = set()
        self._locales: dict[int, str] = {}
        self._routes: list[tuple[str, str, str, Handler]] = [
            ("GET", "/users/@me", "get_current_user", self._get_current_user),
            ("GET", "/oauth2/applications/@me", "get_application", self._get_application),
            ("GET", "/gateway/bot", "get_gateway_bot", self._get_gateway_bot),
            ("GET", GLOBAL_COMMANDS, "get_global_commands", self._get_commands),
            ("PUT", GLOBAL_COMMANDS, "put_global_commands", self._put_commands),
            ("GET", GUILD_COMMANDS, "get_guild_commands", self._get_commands),
            ("PUT", GUILD_COMMANDS, "put_guild_commands", self._put_commands),
            ("POST", CALLBACK, "interaction_callback", self._callback),
            ("POST", WEBHOOK, "followup", self._followup),
            ("GET", WEBHOOK_MESSAGE, "get_webhook_message", self._get_webhook_message),
            ("PATCH", WEBHOOK_MESSAGE, "edit_webhook_message", self._edit_webhook_message),
            ("DELETE", WEBHOOK_MESSAGE, "delete_webhook_message", self._delete_webhook_message),
            ("POST", "/users/@me/channels", "create_dm", self._create_dm),
            ("POST", "/channels/{channel}/messages", "create_message", self._create_message),
            ("PATCH", "/channels/{channel}/messages/{message}", "edit_message", self._edit_message),
        ]

    # --- lifecycle ---------------------------------------------------------------------

    @property
    def api_base(self) -> str:
        """What ``discord.http.Route.BASE`` must be set to."""
        return f"{self.url}{API}"

    @property
    def gateway_url(self) -> str:
        """The gateway websocket's URL, as ``GET /gateway/bot`` gives it."""
        return f"{self.url.replace('http://', 'ws://', 1)}{GATEWAY_PATH}"

    def add_routes(self, app: web.Application) -> None:
        for method, path, name, handler in self._routes:
            app.router.add_route(method, API + path, self._endpoint(name, handler))
        app.router.add_route("*", API + "/{tail:.*}", self._endpoint("unknown", _not_found))
        app.router.add_get(GATEWAY_PATH, self._gateway)

    def release_waiters(self) -> None:
        """Close every gateway websocket so that shutting down does not wait for them."""
        future = asyncio.run_coroutine_threadsafe(self._close_sockets(), self._loop)
        future.result(timeout=5)

    async def wait_connected(self, timeout: float = 10.0) -> None:
        """Wait (without blocking the caller's loop) until a client's IDENTIFY is answered."""
        await wait_until(self.connected.is_set, timeout, message="no client sent IDENTIFY")

    # --- what a test can set up ----------------------------------------------------------

    def fail_next(
        self,
        route: str,
        status: int = 429,
        retry_after: float = 0.2,
        code: int | None = None,
        count: int = 1,
    ) -> None:
        """Answer the next ``count`` calls of ``route`` with an error.

        429 carries Discord's rate-limit body and ``X-RateLimit-*``/``Retry-After``/``Via``
        headers, so discord.py sleeps ``retry_after`` and retries. discord.py also retries
        500/502/504 (after 1 s, 3 s, ...) and raises DiscordServerError on 503.
        """
        known = {name for _, _, name, _ in self._routes}
        if route not in known:
            raise ValueError(f"unknown route {route!r}; known: {sorted(known)}")
        with self._lock:
            queue = self._faults.setdefault(route, deque())
            queue.extend(_Fault(status, retry_after, code) for _ in range(count))

    def close_dms(self, user_id: int) -> None:
        """Messages to this user's DM channel now answer 403 with code 50007."""
        with self._lock:
            self._closed_dms.add(user_id)

    def set_locale(self, user_id: int, locale: str) -> None:
        """The user's Discord client speaks ``locale`` (``ru``, ``en-US``...): their
        interactions carry it from now on (``en-US`` until then)."""
        with self._lock:
            self._locales[user_id] = locale

    # --- driving the bot like a person ----------------------------------------------------

    def slash(
        self,
        user_id: int,
        name: str,
        options: dict[str, str | int | float | bool] | None = None,
        *,
        guild_id: int | None = None,
        channel_id: int | None = None,
    ) -> str:
        """Dispatch a slash command (INTERACTION_CREATE type 2); returns the interaction id.

        The command must have been synced: a guild command of ``guild_id`` first, else a
        global one. Each value's type (str 3, int 4, bool 5, float 10) must match the synced
        option (an int may fill a float option). Without ``guild_id`` the command comes from
        the user's DM with the bot; ``channel_id`` names the guild's text channel.
        """
        with self._lock:
            command = self._synced_command(name, guild_id)
            data: JSON = {
                "id": command["id"],
                "name": name,
                "type": 1,
                "options": _command_options(command, options or {}),
            }
            if "guild_id" in command:
                data["guild_id"] = command["guild_id"]
            channel = self._interaction_channel(user_id, guild_id, channel_id)
            record = self._new_interaction(APPLICATION_COMMAND, user_id, data, guild_id, channel)
        return self._deliver(record, guild_id)

    def autocomplete(
        self,
        user_id: int,
        name: str,
        options: dict[str, str | int | float | bool],
        focused: str,
        *,
        guild_id: int | None = None,
    ) -> str:
        """Dispatch an autocomplete interaction (type 4), as Discord sends while the user
        types the option ``focused`` of ``/name`` (required options may be missing yet);
        returns the interaction id. The bot answers with ``Answer.choices``."""
        with self._lock:
            command = self._synced_command(name, guild_id)
            declared = {option["name"]: option for option in command.get("options", [])}
            if not declared.get(focused, {}).get("autocomplete"):
                raise ValueError(f"option {focused!r} of /{name} has no autocomplete")
            typed = _command_options(command, options, partial=True)
            for option in typed:
                option["focused"] = option["name"] == focused
            data: JSON = {"id": command["id"], "name": name, "type": 1, "options": typed}
            if "guild_id" in command:
                data["guild_id"] = command["guild_id"]
            channel = self._interaction_channel(user_id, guild_id, None)
            record = self._new_interaction(AUTOCOMPLETE, user_id, data, guild_id, channel)
        return self._deliver(record, guild_id)

    def press(
        self,
        user_id: int,
        message: JSON | str | None,
        custom_id: str,
        *,
        guild_id: int | None = None,
    ) -> str:
        """Dispatch a button press (type 3) on a message the bot sent; returns its id.

        ``message`` is a message dict (e.g. from ``message_of``) or its id; the emulator
        uses its current version, components included. ``guild_id`` defaults to the guild
        of the message's channel.
        """
        if message is None:
            raise ValueError("press() needs a message the bot sent, got None")
        message_id = message["id"] if isinstance(message, dict) else message
        with self._lock:
            current = self._messages.get(str(message_id))
            if current is None:
                raise LookupError(f"the bot sent no message {message_id} (or deleted it)")
            _check_button(current, custom_id)
            channel = self._channels[current["channel_id"]]
            if guild_id is None and "guild_id" in channel:
                guild_id = int(channel["guild_id"])
            data = {"custom_id": custom_id, "component_type": 2}
            record = self._new_interaction(
                MESSAGE_COMPONENT, user_id, data, guild_id, channel, message=current
            )
        return self._deliver(record, guild_id)

    def redeliver(self, interaction_id: str) -> None:
        """Dispatch an interaction again, as a gateway replay after a reconnect does."""
        with self._lock:
            record = self._record(interaction_id)
            guild = record.payload.get("guild_id")
        self._deliver(record, None if guild is None else int(guild))

    # --- reading what happened ----------------------------------------------------------

    def calls(self, route: str | None = None) -> list[Call]:
        """Every recorded call, oldest first; only those of ``route`` if given."""
        with self._lock:
            return [call for call in self._calls if route is None or call.route == route]

    def commands(self, guild_id: int | None = None) -> list[JSON]:
        """The global commands (or ``guild_id``'s) as the bot last synced them."""
        with self._lock:
            key = None if guild_id is None else str(guild_id)
            return copy.deepcopy(self._commands.get(key, []))

    def interaction(self, interaction_id: str) -> JSON:
        """The INTERACTION_CREATE payload as it was dispatched."""
        with self._lock:
            return copy.deepcopy(self._record(interaction_id).payload)

    def answers(self, interaction_id: str) -> list[Answer]:
        """What the bot answered to an interaction and Discord accepted, in order."""
        with self._lock:
            return list(self._record(interaction_id).answers)

    def message_of(self, interaction_id: str) -> JSON | None:
        """The original response as the user sees it now (edits applied), or None.

        For a component interaction answered with type 6 or 7 it is the pressed message.
        """
        with self._lock:
            original = self._record(interaction_id).original_id
            return copy.deepcopy(self._messages.get(original or ""))

    def message(self, message_id: str) -> JSON | None:
        """A message the bot sent, as shown now (edits applied), or None if deleted."""
        with self._lock:
            return copy.deepcopy(self._messages.get(str(message_id)))

    def followups(self, interaction_id: str) -> list[JSON]:
        """Followup messages still shown, edits applied (a filled defer is the original)."""
        with self._lock:
            ids = self._record(interaction_id).followup_ids
            return [copy.deepcopy(self._messages[i]) for i in ids if i in self._messages]

    def last_message(self, interaction_id: str) -> JSON | None:
        """The latest message shown for an interaction: its last followup, else the original."""
        shown = self.followups(interaction_id)
        return shown[-1] if shown else self.message_of(interaction_id)

    def messages_in(self, channel_id: str) -> list[JSON]:
        """Every message the bot shows in a channel (interaction responses included),
        oldest first, edits applied."""
        with self._lock:
            return [
                copy.deepcopy(message)
                for message in self._messages.values()
                if message["channel_id"] == str(channel_id)
            ]

    def dms(self, user_id: int) -> list[JSON]:
        """Messages the bot sent to ``user_id``'s DM channel (not interaction responses)."""
        with self._lock:
            channel_id = self._dm_channels.get(user_id)
            return [
                copy.deepcopy(message)
                for message in self._messages.values()
                if message["channel_id"] == channel_id and "webhook_id" not in message
            ]

    # --- REST plumbing --------------------------------------------------------------------

    def _endpoint(self, name: str, handler: Handler) -> Callable[[web.Request], Any]:
        async def endpoint(request: web.Request) -> web.Response:
            body: Any = None
            try:
                body, files = await _read_body(request)
            except _ApiError as error:
                status, result, headers = error.status, error.body, error.headers
            else:
                with self._lock:
                    status, result, headers = self._handle(name, handler, request, body, files)
            call = Call(
                request.method,
                request.path.removeprefix(API),
                name,
                body,
                status,
                time.monotonic(),
                dict(request.query),
            )
            with self._lock:
                self._calls.append(call)
            if name == "create_message":
                await asyncio.sleep(self.send_latency)
            if status == 204:
                return web.Response(status=204, headers=headers)
            # Exactly "application/json": discord.py reads any other content type as text.
            headers = {**headers, "Content-Type": "application/json"}
            return web.Response(body=json.dumps(result).encode(), status=status, headers=headers)

        return endpoint

    def _handle(
        self, name: str, handler: Handler, request: web.Request, body: Any, files: list[_Upload]
    ) -> tuple[int, Any, dict[str, str]]:
        """Run a handler with the lock held: auth, injected faults, then the route itself."""
        try:
            # Interaction webhooks are authorized by their token, everything else by the bot's.
            bot_auth = request.headers.get("Authorization") == f"Bot {TOKEN}"
            if name not in WEBHOOK_ROUTES and not bot_auth:
                raise _fail(401, 0, "401: Unauthorized")
            self._raise_fault(name)
            match = dict(request.match_info)
            status, result = handler(_Request(match, dict(request.query), body, files))
        except _ApiError as error:
            return error.status, error.body, error.headers
        return status, result, _ratelimit_headers(name, remaining=49, reset_after=1.0)

    def _raise_fault(self, name: str) -> None:
        queue = self._faults.get(name)
        if not queue:
            return
        fault = queue.popleft()
        if fault.status != 429:
            phrase = HTTPStatus(fault.status).phrase
            raise _fail(fault.status, fault.code or 0, f"{fault.status}: {phrase}")
        headers = {
            **_ratelimit_headers(name, remaining=0, reset_after=fault.retry_after),
            "Retry-After": str(max(1, round(fault.retry_after))),
            "X-RateLimit-Scope": "user",
        }
        body: JSON = {"message": "You are being rate limited.", "retry_after": fault.retry_after}
        body["global"] = False
        if fault.code is not None:
            body["code"] = fault.code
        raise _ApiError(429, body, headers)

    # --- REST routes (called with the lock held) ------------------------------------------

    def _get_current_user(self, request: _Request) -> tuple[int, Any]:
        return 200, _bot_user()

    def _get_application(self, request: _Request) -> tuple[int, Any]:
        return 200, {
            "id": str(APPLICATION_ID),
            "name": BOT_USERNAME,
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "flags": 0,
            "owner": self._user(1000000000000000001),
            "team": None,
            "bot": _bot_user(),
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "integration_types_config": {"0": {}},
        }

    def _get_gateway_bot(self, request: _Request) -> tuple[int, Any]:
        limit = {"total": 1000, "remaining": 999, "reset_after": 14_400_000, "max_concurrency": 1}
        return 200, {"url": self.gateway_url, "shards": 1, "session_start_limit": limit}

    def _get_commands(self, request: _Request) -> tuple[int, Any]:
        _check_application(request.match["app"])
        return 200, copy.deepcopy(self._commands.get(request.match.get("guild"), []))

    def _put_commands(self, request: _Request) -> tuple[int, Any]:
        _check_application(request.match["app"])
        submitted = request.body
        if not isinstance(submitted, list) or not all(isinstance(c, dict) for c in submitted):
            raise _invalid_form({"_errors": [_error("LIST_TYPE_CONVERT", "Must be an array.")]})
        guild = request.match.get("guild")
        previous = {(c["name"], c["type"]): c["id"] for c in self._commands.get(guild, [])}
        for command in submitted:
            _check_command(command)
        stored = [self._stored_command(c, guild, previous) for c in submitted]
        self._commands[guild] = stored
        return 200, copy.deepcopy(stored)

    def _stored_command(
        self, submitted: JSON, guild: str | None, previous: dict[tuple[str, int], str]
    ) -> JSON:
        """A command as Discord returns it; an overwritten command keeps its id."""
        kind = int(submitted.get("type", 1))
        command: JSON = {
            "type": kind,
            "description": "",
            "default_member_permissions": None,
            "nsfw": False,
            "name_localizations": None,
            "description_localizations": None,
            **copy.deepcopy(submitted),
            "application_id": str(APPLICATION_ID),
            "version": self._new_id(),
        }
        command["id"] = previous.get((command["name"], kind)) or self._new_id()
        if guild is None:
            command.setdefault("dm_permission", True)
        else:
            command["guild_id"] = guild
            command.pop("dm_permission", None)
        return command

    def _callback(self, request: _Request) -> tuple[int, Any]:
        record = self._interactions.get(request.match["interaction"])
        if record is None or record.payload["token"] != request.match["token"]:
            raise _fail(404, 10062, "Unknown interaction")
        if record.callback_type is not None:
            raise _fail(400, 40060, "Interaction has already been acknowledged.")
        body = _object(request.body)
        kind = body.get("type")
        message = self._respond(record, kind, _object(body.get("data") or {}), request.files)
        record.callback_type = kind
        if kind == AUTOCOMPLETE_RESULT:
            at = time.monotonic() - record.dispatched_at
            choices = copy.deepcopy(_object(body.get("data") or {})["choices"])
            record.answers.append(Answer("callback", at, kind, choices=choices))
        else:
            self._answer(record, "callback", message, callback_type=kind)
        if not _truthy(request.query.get("with_response")):
            return 204, None
        return 200, _callback_response(record, kind, message)

    def _respond(
        self, record: _Interaction, kind: Any, data: JSON, files: list[_Upload]
    ) -> JSON | None:
        """Apply a callback; returns the message it created or updated (None for types
        6 and 8)."""
        if record.type == AUTOCOMPLETE:
            if kind != AUTOCOMPLETE_RESULT:
                raise _invalid_form({"type": {"_errors": [_error("BASE_TYPE_CHOICES", "8")]}})
            _check_choices(data.get("choices"))
            return None
        if kind == CHANNEL_MESSAGE:
            flags = int(data.get("flags") or 0) & INTERACTION_MESSAGE_FLAGS
            return self._original(record, data, files, flags)
        if kind == DEFERRED_CHANNEL_MESSAGE:
            return self._original(record, {}, [], int(data.get("flags") or 0) & EPHEMERAL | LOADING)
        if kind in (DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE) and record.type == MESSAGE_COMPONENT:
            record.original_id = str(record.payload["message"]["id"])
            if kind == DEFERRED_UPDATE_MESSAGE:
                return None
            return self._edit(record.original_id, data, files, nest="data")
        choices = "(4, 5)" if record.type == APPLICATION_COMMAND else "(4, 5, 6, 7)"
        raise _invalid_form(
            {"type": {"_errors": [_error("BASE_TYPE_CHOICES", f"Value must be one of {choices}.")]}}
        )

    def _original(self, record: _Interaction, data: JSON, files: list[_Upload], flags: int) -> JSON:
        kind = CHAT_INPUT_COMMAND_MESSAGE if record.type == APPLICATION_COMMAND else DEFAULT_MESSAGE
        channel_id = record.payload["channel_id"]
        message = self._new_message(channel_id, data, files, flags, kind, record, nest="data")
        record.original_id = message["id"]
        return message

    def _followup(self, request: _Request) -> tuple[int, Any]:
        record = self._webhook_interaction(request)
        data = _object(request.body)
        original = self._messages.get(record.original_id or "")
        if original is not None and original["flags"] & LOADING:
            message = self._edit(original["id"], data, request.files, nest=None)
        else:
            flags = int(data.get("flags") or 0) & INTERACTION_MESSAGE_FLAGS
            message = self._new_message(
                record.payload["channel_id"], data, request.files, flags, DEFAULT_MESSAGE, record
            )
            record.followup_ids.append(message["id"])
        self._answer(record, "followup", message)
        if not _truthy(request.query.get("wait")):
            return 204, None
        return 200, copy.deepcopy(message)

    def _get_webhook_message(self, request: _Request) -> tuple[int, Any]:
        _, message_id = self._webhook_message(request)
        return 200, copy.deepcopy(self._messages[message_id])

    def _edit_webhook_message(self, request: _Request) -> tuple[int, Any]:
        record, message_id = self._webhook_message(request)
        message = self._edit(message_id, _object(request.body), request.files, nest=None)
        self._answer(record, "edit", message)
        return 200, copy.deepcopy(message)

    def _delete_webhook_message(self, request: _Request) -> tuple[int, Any]:
        record, message_id = self._webhook_message(request)
        del self._messages[message_id]
        self._answer(record, "delete", None, message_id=message_id)
        return 204, None

    def _create_dm(self, request: _Request) -> tuple[int, Any]:
        recipient = _object(request.body).get("recipient_id")
        if not str(recipient).isdigit():
            raise _invalid_form({"recipient_id": {"_errors": [_error("NUMBER_TYPE_COERCE", "")]}})
        return 200, copy.deepcopy(self._dm_channel(int(str(recipient))))

    def _create_message(self, request: _Request) -> tuple[int, Any]:
        channel = self._channels.get(request.match["channel"])
        if channel is None:
            raise _fail(404, 10003, "Unknown Channel")
        if channel["type"] == 1 and int(channel["recipients"][0]["id"]) in self._closed_dms:
            raise _fail(403, 50007, "Cannot send messages to this user")
        data = _object(request.body)
        nonce = self._enforced_nonce(channel["id"], data)
        if nonce in self._nonces:
            return 200, copy.deepcopy(self._messages[self._nonces[nonce]])
        flags = int(data.get("flags") or 0) & CHANNEL_MESSAGE_FLAGS
        message = self._new_message(channel["id"], data, request.files, flags, DEFAULT_MESSAGE)
        channel["last_message_id"] = message["id"]
        if nonce is not None:
            self._nonces[nonce] = message["id"]
        return 200, copy.deepcopy(message)

    def _edit_message(self, request: _Request) -> tuple[int, Any]:
        message = self._messages.get(request.match["message"])
        if message is None or message["channel_id"] != request.match["channel"]:
            raise _fail(404, 10008, "Unknown Message")
        edited = self._edit(message["id"], _object(request.body), request.files, nest=None)
        return 200, copy.deepcopy(edited)

    @staticmethod
    def _enforced_nonce(channel_id: str, data: JSON) -> tuple[str, str] | None:
        """The channel and nonce a message must be unique by, when ``enforce_nonce`` is on:
        Discord then answers a repeat with the message first created (within minutes; the
        stand-in remembers them all)."""
        nonce = data.get("nonce")
        if nonce is not None and len(str(nonce)) > NONCE_LENGTH:
            raise _invalid_form({"nonce": {"_errors": [_error("BASE_TYPE_BAD_LENGTH", "")]}})
        if nonce is None or not data.get("enforce_nonce"):
            return None
        return channel_id, str(nonce)

    # --- interactions and messages (lock held) ------------------------------------------

    def _record(self, interaction_id: str) -> _Interaction:
        record = self._interactions.get(str(interaction_id))
        if record is None:
            raise LookupError(f"no interaction {interaction_id} was dispatched")
        return record

    def _webhook_interaction(self, request: _Request) -> _Interaction:
        """The interaction whose token the webhook route names; it must be acknowledged."""
        token = request.match["token"]
        found = [r for r in self._interactions.values() if r.payload["token"] == token]
        if request.match["app"] != str(APPLICATION_ID) or not found or not found[0].callback_type:
            raise _fail(404, 10015, "Unknown Webhook")
        return found[0]

    def _webhook_message(self, request: _Request) -> tuple[_Interaction, str]:
        record = self._webhook_interaction(request)
        wanted = request.match["message"]
        message_id = record.original_id if wanted == "@original" else wanted
        owned = message_id == record.original_id or message_id in record.followup_ids
        if not owned or message_id not in self._messages:
            raise _fail(404, 10008, "Unknown Message")
        return record, str(message_id)

    def _new_message(
        self,
        channel_id: str,
        data: JSON,
        files: list[_Upload],
        flags: int,
        kind: int,
        record: _Interaction | None = None,
        nest: str | None = None,
    ) -> JSON:
        """Validate and store a message the bot sends."""
        message: JSON = {
            "id": self._new_id(),
            "type": kind,
            "channel_id": channel_id,
            "author": _bot_user(),
            "content": "",
            "embeds": [],
            "components": [],
            "attachments": [],
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "tts": bool(data.get("tts")),
            "timestamp": _now(),
            "edited_timestamp": None,
            "flags": flags,
        }
        if record is not None:
            message["webhook_id"] = str(APPLICATION_ID)
            message["application_id"] = str(APPLICATION_ID)
            message["interaction_metadata"] = _interaction_metadata(record)
        self._apply(message, data, files)
        _check_message(message, nest)
        self._messages[message["id"]] = message
        return message

    def _edit(self, message_id: str, data: JSON, files: list[_Upload], nest: str | None) -> JSON:
        """Apply an edit to a stored message; filling a loading (deferred) message clears it."""
        edited = copy.deepcopy(self._messages[message_id])
        self._apply(edited, data, files)
        if "flags" in data:
            wanted = int(data["flags"] or 0) & SUPPRESS_EMBEDS
            edited["flags"] = edited["flags"] & ~SUPPRESS_EMBEDS | wanted
        if edited["flags"] & LOADING:
            edited["flags"] &= ~LOADING
        else:
            edited["edited_timestamp"] = _now()
        _check_message(edited, nest)
        self._messages[message_id] = edited
        return edited

    def _apply(self, message: JSON, data: JSON, files: list[_Upload]) -> None:
        if "content" in data:
            message["content"] = "" if data["content"] is None else str(data["content"])
        if "embeds" in data:
            message["embeds"] = [{"type": "rich", **embed} for embed in data["embeds"] or []]
        if "components" in data:
            message["components"] = copy.deepcopy(data["components"] or [])
        if "attachments" in data:
            message["attachments"] = self._attachments(message, data["attachments"] or [], files)

    def _attachments(self, message: JSON, listed: list[JSON], files: list[_Upload]) -> list[JSON]:
        """The attachments a payload lists by id: new uploads (``files[id]``) or kept ones."""
        uploads = {upload.field: upload for upload in files}
        kept = {a["id"]: a for a in message["attachments"]}
        result = []
        for entry in listed:
            upload = uploads.get(f"files[{entry.get('id')}]")
            if upload is not None:
                result.append(self._attachment(message["channel_id"], upload))
            elif str(entry.get("id")) in kept:
                result.append(kept[str(entry["id"])])
        return result

    def _attachment(self, channel_id: str, upload: _Upload) -> JSON:
        attachment_id = self._new_id()
        path = f"attachments/{channel_id}/{attachment_id}/{upload.filename}"
        return {
            "id": attachment_id,
            "filename": upload.filename,
            "size": upload.size,
            "content_type": upload.content_type,
            "url": f"{CDN}/{path}",
            "proxy_url": f"https://media.discordapp.net/{path}",
        }

    def _answer(
        self,
        record: _Interaction,
        kind: str,
        message: JSON | None,
        *,
        callback_type: int | None = None,
        message_id: str | None = None,
    ) -> None:
        at = time.monotonic() - record.dispatched_at
        if message is None:
            record.answers.append(Answer(kind, at, callback_type, message_id))
            return
        answer = Answer(
            kind,
            at,
            callback_type,
            message["id"],
            message["content"],
            copy.deepcopy(message["embeds"]),
            copy.deepcopy(message["components"]),
            bool(message["flags"] & EPHEMERAL),
            [attachment["filename"] for attachment in message["attachments"]],
        )
        record.answers.append(answer)

    def _synced_command(self, name: str, guild_id: int | None) -> JSON:
        scopes = [str(guild_id), None] if guild_id is not None else [None]
        for scope in scopes:
            for command in self._commands.get(scope, []):
                if command["name"] == name and command["type"] == 1:
                    return command
        synced = {
            scope or "global": [c["name"] for c in cs] for scope, cs in self._commands.items()
        }
        raise LookupError(f"/{name} was not synced for guild {guild_id}; synced: {synced}")

    def _new_interaction(
        self,
        kind: int,
        user_id: int,
        data: JSON,
        guild_id: int | None,
        channel: JSON,
        message: JSON | None = None,
    ) -> _Interaction:
        interaction_id = self._new_id()
        payload: JSON = {
            "id": interaction_id,
            "application_id": str(APPLICATION_ID),
            "type": kind,
            "data": data,
            "channel_id": channel["id"],
            "channel": copy.deepcopy(channel),
            "token": f"aW50ZXJhY3Rpb246{interaction_id}:{secrets.token_urlsafe(48)}",
            "version": 1,
            "locale": self._locales.get(user_id, "en-US"),
            "app_permissions": PERMISSIONS,
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
        }
        if guild_id is None:
            payload.update(user=self._user(user_id), context=1)
        else:
            payload.update(
                guild_id=str(guild_id),
                guild={"id": str(guild_id), "locale": "en-US", "features": []},
                guild_locale="en-US",
                member=self._member(user_id),
                context=0,
                authorizing_integration_owners={"0": str(guild_id)},
            )
        if message is not None:
            payload["message"] = copy.deepcopy(message)
        record = _Interaction(payload, time.monotonic())
        self._interactions[interaction_id] = record
        return record

    def _deliver(self, record: _Interaction, guild_id: int | None) -> str:
        """Send INTERACTION_CREATE to the shard that owns ``guild_id`` (shard 0 for DMs)."""
        coroutine = self._dispatch_to_shard("INTERACTION_CREATE", record.payload, guild_id)
        try:
            asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=5)
        except Exception:
            with self._lock:
                del self._interactions[record.id]
            raise
        return record.id

    # --- users and channels (lock held) -------------------------------------------------

    def _user(self, user_id: int) -> JSON:
        if user_id not in self._users:
            self._users[user_id] = {
                "id": str(user_id),
                "username": f"user{user_id}",
                "global_name": f"User {user_id}",
                "discriminator": "0",
                "avatar": None,
                "public_flags": 0,
            }
        return copy.deepcopy(self._users[user_id])

    def _member(self, user_id: int) -> JSON:
        return {
            "user": self._user(user_id),
            "roles": [],
            "joined_at": _now(),
            "premium_since": None,
            "nick": None,
            "avatar": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
            "permissions": PERMISSIONS,
        }

    def _dm_channel(self, user_id: int) -> JSON:
        if user_id not in self._dm_channels:
            channel = {
                "id": self._new_id(),
                "type": 1,
                "last_message_id": None,
                "flags": 0,
                "recipients": [self._user(user_id)],
            }
            self._channels[channel["id"]] = channel
            self._dm_channels[user_id] = channel["id"]
        return self._channels[self._dm_channels[user_id]]

    def _interaction_channel(
        self, user_id: int, guild_id: int | None, channel_id: int | None
    ) -> JSON:
        if guild_id is None:
            return self._dm_channel(user_id)
        if channel_id is None:
            channel_id = int(self._guild_channels.get(guild_id) or self._new_id())
            self._guild_channels[guild_id] = str(channel_id)
        return self._channels.setdefault(
            str(channel_id),
            {
                "id": str(channel_id),
                "type": 0,
                "guild_id": str(guild_id),
                "name": "general",
                "position": 0,
                "parent_id": None,
                "topic": None,
                "nsfw": False,
                "last_message_id": None,
                "rate_limit_per_user": 0,
                "permission_overwrites": [],
                "flags": 0,
                "permissions": PERMISSIONS,
            },
        )

    def _new_id(self) -> str:
        """A snowflake for now, strictly increasing."""
        stamp = (time.time_ns() // 1_000_000 - DISCORD_EPOCH_MS) << 22
        self._last_id = max(stamp, self._last_id + 1)
        return str(self._last_id)

    # --- gateway ----------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(timeout=1.0)  # bounds the close handshake on shutdown
        await ws.prepare(request)
        session = _Session(ws)
        query = dict(request.query)
        connect = Call("GET", GATEWAY_PATH, "gateway_connect", None, 101, time.monotonic(), query)
        with self._lock:
            self._sessions.append(session)
            self._calls.append(connect)
        try:
            await ws.send_json(_packet(HELLO, {"heartbeat_interval": HEARTBEAT_INTERVAL_MS}))
            async for frame in ws:
                if frame.type is WSMsgType.TEXT:
                    await self._on_packet(session, json.loads(frame.data))
        finally:
            with self._lock:
                self._sessions.remove(session)
        return ws

    async def _on_packet(self, session: _Session, packet: JSON) -> None:
        op = packet.get("op")
        if op == HEARTBEAT:
            await session.ws.send_json(_packet(HEARTBEAT_ACK, None))
        elif op == IDENTIFY:
            await self._identify(session, packet.get("d") or {})

    async def _identify(self, session: _Session, data: JSON) -> None:
        accepted = data.get("token") == TOKEN
        status = 200 if accepted else AUTHENTICATION_FAILED
        call = Call("WS", GATEWAY_PATH, "identify", data, status, time.monotonic())
        with self._lock:
            self._calls.append(call)
        if not accepted:
            await session.ws.close(code=AUTHENTICATION_FAILED, message=b"Authentication failed.")
            return
        shard_id, shard_count = data.get("shard") or (0, 1)
        session.shard = (int(shard_id), int(shard_count))
        ready = {
            "v": 10,
            "user": _bot_user(),
            "guilds": [],
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "user_settings": {},
            "guild_join_requests": [],
            "session_id": secrets.token_hex(16),
            "session_type": "normal",
            "resume_gateway_url": self.gateway_url,
            "shard": list(session.shard),
            "application": {"id": str(APPLICATION_ID), "flags": 0},
        }
        self.connected.set()  # events dispatched from now on reach the socket after READY
        await self._send_event(session, "READY", ready)

    async def _send_event(self, session: _Session, event: str, data: JSON) -> None:
        session.sequence += 1
        await session.ws.send_json({"op": DISPATCH, "s": session.sequence, "t": event, "d": data})

    async def _dispatch_to_shard(self, event: str, data: JSON, guild_id: int | None) -> None:
        with self._lock:
            sessions = [s for s in self._sessions if _owns(s, guild_id)]
        if not sessions:
            raise RuntimeError("no discord.py client is connected and identified on the gateway")
        for session in sessions:
            await self._send_event(session, event, data)

    async def _close_sockets(self) -> None:
        with self._lock:
            sockets = [session.ws for session in self._sessions]
        for ws in sockets:
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutting down")


# --- helpers -----------------------------------------------------------------------------------


def _not_found(request: _Request) -> tuple[int, Any]:
    raise _fail(404, 0, "404: Not Found")


def _bot_user() -> JSON:
    return {
        "id": str(BOT_USER_ID),
        "username": BOT_USERNAME,
        "global_name": None,
        "discriminator": "0",
        "avatar": None,
        "bot": True,
        "verified": True,
        "mfa_enabled": False,
        "flags": 0,
        "public_flags": 0,
    }


def _owns(session: _Session, guild_id: int | None) -> bool:
    """Whether a session's shard receives events of ``guild_id`` (DMs go to shard 0)."""
    if session.shard is None:
        return False
    shard_id, shard_count = session.shard
    return shard_id == (0 if guild_id is None else (guild_id >> 22) % shard_count)


def _packet(op: int, data: Any) -> JSON:
    return {"op": op, "d": data, "s": None, "t": None}


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def _truthy(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true")


def _object(body: Any) -> JSON:
    if not isinstance(body, dict):
        raise _fail(400, 50109, "The request body contains invalid JSON.")
    return body


def _error(code: str, message: str) -> JSON:
    return {"code": code, "message": message}


def _fail(status: int, code: int, message: str, errors: JSON | None = None) -> _ApiError:
    """Discord's error envelope: ``{"message", "code"}`` and, for bad forms, ``errors``."""
    body: JSON = {"message": message, "code": code}
    if errors:
        body["errors"] = errors
    return _ApiError(status, body)


def _invalid_form(errors: JSON) -> _ApiError:
    return _fail(400, 50035, "Invalid Form Body", errors)


def _check_application(application_id: str) -> None:
    if application_id != str(APPLICATION_ID):
        raise _fail(403, 50001, "Missing Access")


def _ratelimit_headers(route: str, *, remaining: int, reset_after: float) -> dict[str, str]:
    return {
        "X-RateLimit-Bucket": hashlib.md5(route.encode()).hexdigest(),
        "X-RateLimit-Limit": "50",
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
        "X-RateLimit-Reset-After": f"{reset_after:.3f}",
    }


def _callback_response(record: _Interaction, kind: int, message: JSON | None) -> JSON:
    """The body of a callback sent with ``?with_response=true``."""
    interaction: JSON = {"id": record.id, "type": record.type}
    body: JSON = {"interaction": interaction}
    if message is not None:
        interaction.update(
            response_message_id=message["id"],
            response_message_loading=bool(message["flags"] & LOADING),
            response_message_ephemeral=bool(message["flags"] & EPHEMERAL),
        )
        body["resource"] = {"type": kind, "message": copy.deepcopy(message)}
    return body


def _interaction_metadata(record: _Interaction) -> JSON:
    payload = record.payload
    user = payload["member"]["user"] if "member" in payload else payload["user"]
    metadata: JSON = {
        "id": record.id,
        "type": record.type,
        "user": copy.deepcopy(user),
        "authorizing_integration_owners": payload.get("authorizing_integration_owners", {}),
    }
    if record.type == APPLICATION_COMMAND:
        metadata["name"] = payload["data"]["name"]
    else:
        metadata["interacted_message_id"] = payload["message"]["id"]
    return metadata


class LimitError(ValueError):
    """A message or an autocomplete result that Discord would refuse; ``str()`` says why."""


def check_limits(message: JSON) -> None:
    """Raise :class:`LimitError` for a message (content, embeds, components) that Discord
    would refuse, as this stand-in refuses it."""
    try:
        _check_message(message, None)
    except _ApiError as error:
        raise LimitError(json.dumps(error.body)) from None


def check_choices(choices: object) -> None:
    """Raise :class:`LimitError` for autocomplete choices that Discord would refuse."""
    try:
        _check_choices(choices)
    except _ApiError as error:
        raise LimitError(json.dumps(error.body)) from None


def _check_message(message: JSON, nest: str | None) -> None:
    """Discord's length limits, and its refusal of a message with nothing to show."""
    errors: JSON = {}
    if len(message["content"]) > MAX_CONTENT:
        errors["content"] = _too_long(MAX_CONTENT)
    if len(message["embeds"]) > MAX_EMBEDS:
        errors["embeds"] = _too_long(MAX_EMBEDS)
    for index, embed in enumerate(message["embeds"]):
        for key, limit in (*EMBED_TEXT_LIMITS, ("fields", MAX_FIELDS)):
            if len(embed.get(key) or "") > limit:
                errors.setdefault("embeds", {}).setdefault(str(index), {})[key] = _too_long(limit)
    if sum(_embed_text(embed) for embed in message["embeds"]) > MAX_EMBED_TOTAL:
        errors.setdefault("embeds", {})["_errors"] = [_error("MAX_EMBED_SIZE_EXCEEDED", "")]
    if _components_problem(message["components"]):
        errors["components"] = {"_errors": [_error("COMPONENT_LAYOUT_INVALID", "")]}
    if errors:
        raise _invalid_form({nest: errors} if nest else errors)
    shown = ("content", "embeds", "components", "attachments")
    if not message["flags"] & LOADING and not any(message[key] for key in shown):
        raise _fail(400, 50006, "Cannot send an empty message")


def _embed_text(embed: JSON) -> int:
    """The characters of an embed that count towards Discord's 6,000 per message."""
    fields = embed.get("fields") or []
    texts = [embed.get("title"), embed.get("description"), (embed.get("footer") or {}).get("text")]
    texts += [(embed.get("author") or {}).get("name")]
    texts += [part for item in fields for part in (item.get("name"), item.get("value"))]
    return sum(len(text or "") for text in texts)


def _components_problem(rows: list[JSON]) -> bool:
    """Whether classic action rows break Discord's layout: more than five rows, more than
    five buttons in one, a custom_id over 100 characters, a label over 80."""
    if len(rows) > MAX_ROWS:
        return True
    for row in rows:
        buttons = row.get("components") or []
        if row.get("type") == 1 and len(buttons) > MAX_ROW_COMPONENTS:
            return True
        for button in buttons:
            if len(button.get("custom_id") or "") > MAX_CUSTOM_ID:
                return True
            if len(button.get("label") or "") > MAX_LABEL:
                return True
    return False


def _check_choices(choices: object) -> None:
    """Discord's limits on an autocomplete result: at most 25 choices, each with a name
    and a value of 1 to 100 characters."""
    if not isinstance(choices, list) or len(choices) > MAX_CHOICES:
        raise _invalid_form({"choices": _too_long(MAX_CHOICES)})
    for choice in choices:
        for key in ("name", "value"):
            if not 1 <= len(str(choice.get(key, ""))) <= MAX_CHOICE_CHARS:
                raise _invalid_form({"choices": {key: _too_long(MAX_CHOICE_CHARS)}})


def _too_long(limit: int) -> JSON:
    return {"_errors": [_error("BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")]}


def _command_options(command: JSON, values: dict[str, Any], partial: bool = False) -> list[JSON]:
    """Slash options as Discord sends them, checked against the synced command (all the
    required ones, unless ``partial``: an autocomplete while the user types)."""
    declared = {option["name"]: option for option in command.get("options", [])}
    unknown = sorted(set(values) - set(declared))
    if unknown:
        raise ValueError(f"/{command['name']} has no option {unknown}; it has {sorted(declared)}")
    missing = [n for n, o in declared.items() if o.get("required") and n not in values]
    if missing and not partial:
        raise ValueError(f"/{command['name']} needs the options {missing}")
    options = []
    for name, value in values.items():
        kind = _option_type(value)
        wanted = declared[name]["type"]
        if wanted != kind and (wanted, kind) != (NUMBER, INTEGER):
            raise TypeError(f"option {name!r} of /{command['name']} is of type {wanted}: {value!r}")
        options.append({"name": name, "type": wanted, "value": value})
    return options


# Discord's rules for the name of a command or an option, in any locale.
COMMAND_NAME = re.compile(r"[-_\w]{1,32}")


def _check_command(command: JSON) -> None:
    """Refuse a command as Discord does: a name (or an option's, or a localized one)
    that is not 1-32 lower-case letters, digits, ``-`` or ``_``; a description (or an
    option's, or a localized one) of more than 100 characters; a choice of more than 100."""
    errors: JSON = {}
    for part in [command, *command.get("options", [])]:
        names = [part.get("name", ""), *(part.get("name_localizations") or {}).values()]
        if not all(COMMAND_NAME.fullmatch(name) and name == name.lower() for name in names):
            errors.setdefault("name", {"_errors": [_error("APPLICATION_COMMAND_INVALID_NAME", "")]})
        texts = [
            part.get("description", ""),
            *(part.get("description_localizations") or {}).values(),
        ]
        choices = [
            name
            for choice in part.get("choices", [])
            for name in [choice["name"], *(choice.get("name_localizations") or {}).values()]
        ]
        if any(len(text) > 100 for text in texts + choices):
            errors.setdefault("description", {"_errors": [_error("BASE_TYPE_MAX_LENGTH", "")]})
    if errors:
        raise _invalid_form(errors)


def _option_type(value: Any) -> int:
    for python_type, option_type in OPTION_TYPES:
        if isinstance(value, python_type):
            return option_type
    raise TypeError(f"only str, int, bool and float options are emulated, not {value!r}")


def _walk(components: list[JSON]) -> Iterator[JSON]:
    for component in components:
        yield component
        yield from _walk(component.get("components", []))
        if "accessory" in component:
            yield component["accessory"]


def _check_button(message: JSON, custom_id: str) -> None:
    """A person can only press an enabled button that the message shows."""
    buttons = [c for c in _walk(message["components"]) if c.get("type") == 2]
    found = [b for b in buttons if b.get("custom_id") == custom_id]
    if not found:
        shown = [b.get("custom_id") for b in buttons]
        raise ValueError(f"message {message['id']} has no button {custom_id!r}; it has {shown}")
    if found[0].get("disabled"):
        raise ValueError(f"button {custom_id!r} is disabled")


async def _read_body(request: web.Request) -> tuple[Any, list[_Upload]]:
    """The JSON body, or a multipart body's payload_json and its uploaded files."""
    if not request.can_read_body:
        return None, []
    if request.content_type == "multipart/form-data":
        form = await request.post()
        files = [
            _Upload(name, value.filename, value.content_type, len(value.file.read()))
            for name, value in form.items()
            if isinstance(value, web.FileField)
        ]
        return _json(str(form.get("payload_json") or "null")), files
    return _json(await request.text()), []


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        raise _fail(400, 50109, "The request body contains invalid JSON.") from None
