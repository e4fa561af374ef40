"""A local HTTP server that speaks enough of the Telegram Bot API for python-telegram-bot.

The real library talks to it when the bot is built with
``ApplicationBuilder().token(TOKEN).base_url(f"{fake.url}/bot")``: PTB appends the token
and then ``/<method>``, and POSTs parameters as form data where every non-string value
(ints, bools, nested objects such as ``reply_markup``) is a JSON string.

    fake = FakeTelegram()
    fake.start()
    update_id = fake.type_text(1001, "/search die hard")      # a person typing
    await wait_until(lambda: fake.calls("sendMessage"))        # the bot answered
    fake.press(1001, fake.last_message(1001), "more:42")       # a person pressing a button
    query_id = fake.type_inline(1001, "die hard")              # "@bot die hard" in a chat
    card = fake.share(1001, query_id, "562", chat_id=-100200)  # choosing a result to send
    fake.fail_next("sendMessage", status=429, retry_after=1)   # PTB raises RetryAfter
    fake.block_chat(1001)                                      # PTB raises Forbidden
    fake.answer_poll(1001, poll_id, [2])                       # a person voting in a poll
    fake.stop()

Calls are recorded whatever their outcome (``Call.status`` tells which); ``sent_texts``
and ``last_message`` only see messages the emulator actually delivered.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import re
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from aiohttp import web

from testing.background_server import BackgroundServer

JSON = dict[str, Any]

BOT_ID = 7000
BOT_USERNAME = "moviebot_test"
BOT_USER: JSON = {
    "id": BOT_ID,
    "is_bot": True,
    "first_name": "moviebot",
    "username": BOT_USERNAME,
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": True,
}
BOT_AS_SENDER: JSON = {key: BOT_USER[key] for key in ("id", "is_bot", "first_name", "username")}
MAX_LONG_POLL = 1.0
BLOCKED = "Forbidden: bot was blocked by the user"
NOT_STARTED = "Forbidden: bot can't initiate conversation with a user"

# Parameters whose values are strings in the Bot API: never JSON-decode them, or a text
# such as "42" or "true" would come back as a number or a bool.
STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_message_id",
        "inline_query_id",
        "next_offset",
        "start_parameter",
        "url",
        "language_code",
        "business_connection_id",
        "message_effect_id",
        "secret_token",
        "ip_address",
        "description",
        "short_description",
        "name",
        "title",
        "question",
        "emoji",
        "photo",
        "document",
        "audio",
        "video",
        "animation",
        "voice",
        "sticker",
    }
)

MAX_TEXT = 4096  # characters of a message once its entities are parsed
MAX_CALLBACK_ANSWER = 200
MAX_CALLBACK_DATA = 64  # bytes
MAX_BUTTONS = 100  # of an inline keyboard
MAX_INLINE_RESULTS = 50
MAX_RESULT_ID = 64  # bytes
URL_SCHEMES = ("https://", "http://", "tg://")
MAX_POLL_QUESTION, MAX_POLL_OPTION, POLL_OPTIONS = 300, 100, (2, 12)
HTML_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre"}
    | {"span", "tg-spoiler", "blockquote", "tg-emoji"}
)
COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{1,64})?")

# Telegram's method names are case-insensitive; calls are recorded under these spellings.
KNOWN_METHODS = (
    "getMe",
    "getUpdates",
    "setWebhook",
    "deleteWebhook",
    "setMyCommands",
    "getMyCommands",
    "deleteMyCommands",
    "sendMessage",
    "editMessageText",
    "editMessageReplyMarkup",
    "answerCallbackQuery",
    "answerInlineQuery",
    "deleteMessage",
    "sendPoll",
    "stopPoll",
)
CANONICAL = {name.lower(): name for name in KNOWN_METHODS}


@dataclass(frozen=True)
class Call:
    """One request the server received (successful or not)."""

    method: str
    params: JSON
    at: float
    status: int = 200
    token: str = ""


@dataclass
class _Fault:
    status: int
    retry_after: int | None
    description: str


@dataclass
class _Chat:
    info: JSON
    next_message_id: int = 1
    messages: dict[int, JSON] = field(default_factory=dict)  # what the bot sent, edits applied


class ApiError(Exception):
    """Raised inside a handler to answer with Telegram's error envelope."""

    def __init__(self, status: int, description: str, parameters: JSON | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


class _TelegramHtml(HTMLParser):
    """Reads a message as Telegram's HTML parse mode does: only its tags, balanced."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in HTML_TAGS:
            raise ApiError(400, f"Bad Request: can't parse entities: unsupported tag {tag}")
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            raise ApiError(400, f"Bad Request: can't parse entities: unexpected end tag {tag}")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def check_text(text: str, parse_mode: object) -> None:
    """Refuse what Telegram refuses: broken HTML, and text over ``MAX_TEXT``."""
    plain = text
    if parse_mode == "HTML":
        if re.search(r"<(?![a-zA-Z/])|&(?!#?\w+;)", text):
            raise ApiError(400, "Bad Request: can't parse entities: unescaped < or &")
        parser = _TelegramHtml()
        parser.feed(text)
        parser.close()
        if parser.open:
            raise ApiError(400, "Bad Request: can't parse entities: unclosed tag")
        plain = "".join(parser.text)
    if _utf16_len(plain) > MAX_TEXT:
        raise ApiError(400, "Bad Request: message is too long")


def check_markup(markup: object) -> None:
    """Refuse an inline keyboard Telegram refuses: more than ``MAX_BUTTONS`` buttons, a
    button without a text, or not of exactly one kind, callback data of more than
    ``MAX_CALLBACK_DATA`` bytes, a URL that is not one."""
    if markup is None:
        return
    rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    buttons = [button for row in rows for button in row]
    if len(buttons) > MAX_BUTTONS:
        raise ApiError(400, "Bad Request: reply markup is too long")
    for button in buttons:
        kinds = {"callback_data", "url"} & set(button)
        if not button.get("text") or len(kinds) != 1:
            raise ApiError(400, "Bad Request: can't parse inline keyboard button")
        data = str(button.get("callback_data", "x"))
        if not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA:
            raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        if not str(button.get("url", "https://")).startswith(URL_SCHEMES):
            raise ApiError(400, "Bad Request: BUTTON_URL_INVALID")


def check_inline_results(results: object) -> None:
    """Refuse an answer to an inline query that Telegram refuses: more than
    ``MAX_INLINE_RESULTS`` results, ids that are not 1-64 bytes or repeat, an article
    without a title or with a message Telegram would not send."""
    if not isinstance(results, list) or len(results) > MAX_INLINE_RESULTS:
        raise ApiError(400, "Bad Request: RESULTS_TOO_MUCH")
    ids = [str(result.get("id", "")) for result in results]
    if len(set(ids)) != len(ids) or not all(1 <= len(i.encode()) <= MAX_RESULT_ID for i in ids):
        raise ApiError(400, "Bad Request: RESULT_ID_INVALID")
    for result in results:
        content = result.get("input_message_content") or {}
        if result.get("type") != "article" or not result.get("title"):
            raise ApiError(400, "Bad Request: RESULT_TYPE_INVALID")
        if not content.get("message_text"):
            raise ApiError(400, "Bad Request: MESSAGE_EMPTY")
        check_text(str(content["message_text"]), content.get("parse_mode"))
        check_markup(result.get("reply_markup"))


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _decode(key: str, value: Any) -> Any:
    """A parameter as Telegram reads it: JSON where the Bot API expects a non-string."""
    if not isinstance(value, str) or key in STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value  # e.g. chat_id="@channel"


# What Telegram accepts as a command: 1-32 lower-case Latin letters, digits, underscores.
BOT_COMMAND = re.compile(r"[a-z0-9_]{1,32}")


def _chat_key(chat_id: Any) -> int | str:
    if isinstance(chat_id, int):
        return chat_id
    if isinstance(chat_id, str) and re.fullmatch(r"-?\d+", chat_id):
        return int(chat_id)
    return str(chat_id)


class FakeTelegram(BackgroundServer):
    """Serves ``/bot<token>/<method>`` on 127.0.0.1 from a background thread with its own loop."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self.send_latency = 0.0
        """Seconds a sent message's answer takes to leave, after the message is stored."""
        self._calls: list[Call] = []
        self._updates: list[JSON] = []
        self._update_ids = itertools.count(1000)
        self._callback_ids = itertools.count(1)
        self._poll_ids = itertools.count(5_000_000_000_000_000_001)
        self._polls: dict[str, tuple[int | str, int]] = {}  # poll id -> (chat, message id)
        self._issued_callbacks: set[str] = set()
        self._inline_ids = itertools.count(1)
        self._inline_queries: dict[str, JSON] = {}  # id -> the answer, once answered
        self._chats: dict[int | str, _Chat] = {}
        self._users: dict[int, JSON] = {}
        self._typed: dict[int, list[str]] = {}
        self._listeners: list[Callable[[Call], None]] = []
        self._faults: dict[str, deque[_Fault]] = {}
        self._outage: tuple[float, _Fault] | None = None  # (until, answer), monotonic
        self._blocked: set[int | str] = set()
        self._refused: dict[int | str, str] = {}
        self._refused_tokens: set[str] = set()
        self._not_started: set[int | str] = set()
        self._commands: dict[tuple[str, str], list[JSON]] = {}
        self._token_seen: str | None = None
        self._stopping = False
        self._wakeup = asyncio.Event()
        self._handlers: dict[str, Callable[[JSON], Awaitable[Any]]] = {
            "getme": self._get_me,
            "getupdates": self._get_updates,
            "setwebhook": self._true,
            "deletewebhook": self._true,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_my_commands,
            "deletemycommands": self._delete_my_commands,
            "sendmessage": self._send_message,
            "editmessagetext": self._edit_message_text,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "answercallbackquery": self._answer_callback_query,
            "answerinlinequery": self._answer_inline_query,
            "deletemessage": self._delete_message,
            "sendpoll": self._send_poll,
            "stoppoll": self._stop_poll,
        }

    # --- lifecycle -------------------------------------------------------------------

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/bot{token}/{method}", self._dispatch)
        app.router.add_post("/bot{token}/{method}", self._dispatch)

    def release_waiters(self) -> None:
        with self._lock:
            self._stopping = True
        self._loop.call_soon_threadsafe(self._wakeup.set)

    # --- what a test can set up --------------------------------------------------------

    @property
    def token_seen(self) -> str | None:
        """The token of the latest request (any token is accepted)."""
        with self._lock:
            return self._token_seen

    def fail_next(
        self,
        method: str,
        count: int = 1,
        status: int = 429,
        retry_after: int | None = 1,
        description: str | None = None,
    ) -> None:
        """Answer the next ``count`` calls of ``method`` with an error.

        429 carries ``parameters.retry_after`` (PTB raises RetryAfter); other statuses
        carry no parameters (5xx makes PTB raise NetworkError, 400 BadRequest, ...).
        """
        if status == 429:
            after = retry_after if retry_after is not None else 1
            fault = _Fault(status, after, description or f"Too Many Requests: retry after {after}")
        else:
            fault = _Fault(status, None, description or _default_description(status))
        with self._lock:
            queue = self._faults.setdefault(method.lower(), deque())
            queue.extend(fault for _ in range(count))

    def outage(self, seconds: float, status: int = 502, retry_after: int = 1) -> None:
        """Answer every request with ``status`` for the next ``seconds`` (429 carries
        ``retry_after``), as Telegram does when it sheds load."""
        description = f"Too Many Requests: retry after {retry_after}"
        if status != 429:
            description = _default_description(status)
        fault = _Fault(status, retry_after if status == 429 else None, description)
        with self._lock:
            self._outage = (time.monotonic() + seconds, fault)

    def refuse_token(self, token: str) -> None:
        """Answer every request made with ``token`` 401 Unauthorized, as Telegram answers
        a revoked or mistyped token (PTB raises InvalidToken, quoting the token)."""
        with self._lock:
            self._refused_tokens.add(token)

    def never_started(self, user_id: int) -> None:
        """The user has not opened a private chat with the bot: messages to them answer
        403, until they type in a private chat (as pressing Start does)."""
        with self._lock:
            self._not_started.add(user_id)

    def block_chat(self, chat_id: int | str) -> None:
        """sendMessage / editMessage* to this chat now answer 403 (user blocked the bot)."""
        with self._lock:
            self._blocked.add(_chat_key(chat_id))

    def refuse_chat(
        self, chat_id: int | str, description: str = "Bad Request: chat not found"
    ) -> None:
        """sendMessage / editMessage* to this chat now answer 400 with ``description``."""
        with self._lock:
            self._refused[_chat_key(chat_id)] = description

    def unblock_chat(self, chat_id: int | str) -> None:
        with self._lock:
            self._blocked.discard(_chat_key(chat_id))

    def set_language(self, user_id: int, language_code: str) -> None:
        """The user's Telegram app speaks ``language_code`` (``en`` until then): their
        updates carry it from now on."""
        with self._lock:
            self._user(user_id, None)["language_code"] = language_code

    def commands_of(self, language_code: str) -> list[JSON]:
        """The commands of the default scope for users of ``language_code``, as
        setMyCommands left them (Telegram shows the default list to other languages)."""
        with self._lock:
            return copy.deepcopy(self._commands.get(("default", language_code), []))

    # --- driving the bot like a person -----------------------------------------------------

    def type_text(
        self,
        user_id: int,
        text: str,
        chat_id: int | None = None,
        chat_type: str = "private",
        username: str | None = None,
    ) -> int:
        """Queue a message update from ``user_id``; returns its update_id.

        A leading ``/command`` or ``/command@bot`` gets its ``bot_command`` entity.
        """
        with self._lock:
            user = self._user(user_id, username)
            chat = self._chat(chat_id if chat_id is not None else user_id, chat_type, user)
            message: JSON = {
                "message_id": self._next_message_id(chat),
                "from": copy.deepcopy(user),
                "chat": copy.deepcopy(chat.info),
                "date": int(time.time()),
                "text": text,
            }
            self._typed.setdefault(user_id, []).append(text)
            if chat_type == "private":
                self._not_started.discard(user_id)
            command = COMMAND.match(text)
            if command:
                length = _utf16_len(command.group())
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
            return self._queue({"message": message})

    def press(
        self,
        user_id: int,
        message: JSON | int | None,
        data: str,
        chat_id: int | None = None,
    ) -> str:
        """Queue a callback_query for a button under a message the bot sent.

        ``message`` is a Message dict (e.g. from ``last_message``) or a message_id, whose
        chat is ``chat_id`` (default: ``user_id``). Returns the callback query id.
        """
        if message is None:
            raise ValueError("press() needs a message the bot sent, got None")
        if isinstance(message, dict):
            message_id = message["message_id"]
            chat_id = message["chat"]["id"] if chat_id is None else chat_id
        else:
            message_id = message
            chat_id = user_id if chat_id is None else chat_id
        with self._lock:
            chat = self._chats.get(_chat_key(chat_id))
            current = chat.messages.get(message_id) if chat else None
            if current is None:
                raise LookupError(f"the bot sent no message {message_id} to chat {chat_id}")
            query_id = f"cbq-{next(self._callback_ids)}"
            self._issued_callbacks.add(query_id)
            query: JSON = {
                "id": query_id,
                "from": copy.deepcopy(self._user(user_id, None)),
                "message": copy.deepcopy(current),
                "chat_instance": f"ci-{chat_id}",
                "data": data,
            }
            self._queue({"callback_query": query})
            return query_id

    def type_inline(self, user_id: int, query: str, chat_type: str = "private") -> str:
        """Queue an inline query, as typing ``@bot <query>`` in a chat of ``chat_type``
        sends; returns its id."""
        with self._lock:
            query_id = f"iq-{next(self._inline_ids)}"
            self._inline_queries[query_id] = {}
            inline: JSON = {
                "id": query_id,
                "from": copy.deepcopy(self._user(user_id, None)),
                "query": query,
                "offset": "",
                "chat_type": chat_type,
            }
            self._queue({"inline_query": inline})
            return query_id

    def inline_answer(self, query_id: str) -> JSON:
        """The bot's answer to an inline query (``results``, ``cache_time``...), or ``{}``
        while it has not answered."""
        with self._lock:
            return copy.deepcopy(self._inline_queries[query_id])

    def share(self, user_id: int, query_id: str, result_id: str, chat_id: int) -> JSON:
        """Send the result ``result_id`` of an answered inline query to ``chat_id``, as
        choosing it does: the message the chat gets, from the user via the bot."""
        with self._lock:
            answer = self._inline_queries[query_id]
            result = next(r for r in answer["results"] if str(r["id"]) == result_id)
            content = result["input_message_content"]
            chat = self._chat(chat_id, None, None)
            message: JSON = {
                "message_id": self._next_message_id(chat),
                "from": copy.deepcopy(self._user(user_id, None)),
                "chat": copy.deepcopy(chat.info),
                "date": int(time.time()),
                "text": content["message_text"],
                "via_bot": dict(BOT_AS_SENDER),
            }
            if "reply_markup" in result:
                message["reply_markup"] = copy.deepcopy(result["reply_markup"])
            return message

    def answer_poll(self, user_id: int, poll_id: str, option_ids: list[int]) -> int:
        """Queue a poll_answer update: ``user_id`` votes ``option_ids`` in an open poll the
        bot sent (an empty list takes the vote back); returns its update_id."""
        with self._lock:
            chat_key, message_id = self._polls[poll_id]
            poll = self._chats[chat_key].messages[message_id]["poll"]
            if poll["is_closed"]:
                raise ValueError(f"poll {poll_id} is closed: Telegram takes no votes in it")
            answer = {
                "poll_id": poll_id,
                "user": copy.deepcopy(self._user(user_id, None)),
                "option_ids": list(option_ids),
                "option_persistent_ids": [f"{poll_id}-{n}" for n in option_ids],
            }
            return self._queue({"poll_answer": answer})

    # --- reading what happened ---------------------------------------------------------------

    def take_updates(self) -> list[JSON]:
        """Remove the queued updates and return them, to deliver them by webhook."""
        with self._lock:
            updates = list(self._updates)
            self._updates.clear()
            return updates

    def typed_texts(self, user_id: int) -> list[str]:
        """Every text ``user_id`` typed, oldest first."""
        with self._lock:
            return list(self._typed.get(user_id, []))

    def listen(self, listener: Callable[[Call], None]) -> None:
        """Call ``listener`` with every request once it is answered, from the server's
        thread (until :meth:`unlisten`): a way to wait for the bot without polling."""
        with self._lock:
            self._listeners.append(listener)

    def unlisten(self, listener: Callable[[Call], None]) -> None:
        with self._lock:
            self._listeners.remove(listener)

    def calls(self, method: str | None = None) -> list[Call]:
        """Every recorded request, oldest first; only those of ``method`` if given."""
        with self._lock:
            if method is None:
                return list(self._calls)
            wanted = method.lower()
            return [call for call in self._calls if call.method.lower() == wanted]

    def sent_texts(self, chat_id: int | str | None = None) -> list[str]:
        """Texts of the messages sendMessage delivered (to ``chat_id`` if given)."""
        key = None if chat_id is None else _chat_key(chat_id)
        return [
            str(call.params.get("text"))
            for call in self.calls("sendMessage")
            if call.status == 200 and (key is None or _chat_key(call.params["chat_id"]) == key)
        ]

    def messages(self, chat_id: int | str) -> list[JSON]:
        """Messages the bot sent to ``chat_id`` and has not deleted, edits applied."""
        with self._lock:
            chat = self._chats.get(_chat_key(chat_id))
            return [copy.deepcopy(m) for _, m in sorted(chat.messages.items())] if chat else []

    def last_message(self, chat_id: int | str) -> JSON | None:
        """The latest message the bot sent to ``chat_id`` (edits applied), or None."""
        sent = self.messages(chat_id)
        return sent[-1] if sent else None

    @property
    def commands(self) -> list[JSON]:
        """The commands of the default scope and language, as setMyCommands left them."""
        with self._lock:
            return copy.deepcopy(self._commands.get(("default", ""), []))

    def clear_calls(self) -> None:
        with self._lock:
            self._calls.clear()

    # --- state helpers (call with the lock held) ------------------------------------------

    def _user(self, user_id: int, username: str | None) -> JSON:
        user = self._users.get(user_id)
        if user is None:
            user = {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"}
            user["language_code"] = "en"
            self._users[user_id] = user
        if username is not None:
            user["username"] = username
        return user

    def _chat(self, chat_id: int | str, chat_type: str | None, user: JSON | None) -> _Chat:
        key = _chat_key(chat_id)
        chat = self._chats.get(key)
        if chat is None:
            if chat_type is None:
                negative = isinstance(key, int) and key < 0
                chat_type = "private" if isinstance(key, int) and not negative else "supergroup"
                if negative and not str(key).startswith("-100"):
                    chat_type = "group"
            info: JSON = {"id": key, "type": chat_type}
            if chat_type == "private":
                info["first_name"] = (user or {}).get("first_name", f"User{key}")
            else:
                info["title"] = f"Chat {key}"
            chat = self._chats[key] = _Chat(info)
        if chat_type == "private" and user is not None and "username" in user:
            chat.info["username"] = user["username"]
        return chat

    @staticmethod
    def _next_message_id(chat: _Chat) -> int:
        message_id = chat.next_message_id
        chat.next_message_id += 1
        return message_id

    def _queue(self, payload: JSON) -> int:
        update_id = next(self._update_ids)
        self._updates.append({"update_id": update_id, **payload})
        self._loop.call_soon_threadsafe(self._wakeup.set)
        return update_id

    def _message_for_edit(self, params: JSON) -> tuple[_Chat, JSON]:
        if "inline_message_id" in params:
            raise ApiError(400, "Bad Request: inline messages are not emulated")
        key = _chat_key(params.get("chat_id"))
        if key in self._blocked:
            raise ApiError(403, BLOCKED)
        if key in self._refused:
            raise ApiError(400, self._refused[key])
        chat = self._chats.get(key)
        message = chat.messages.get(_message_id(params)) if chat else None
        if chat is None or message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        return chat, message

    # --- the endpoint ----------------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        name = request.match_info["method"]
        method = CANONICAL.get(name.lower(), name)
        try:
            params = await _read_params(request)
        except ValueError as error:
            params, status, body = {}, 400, _error(400, f"Bad Request: {error}")
        else:
            status, body = await self._answer(method, params)
        with self._lock:
            if token in self._refused_tokens:
                status, body = 401, _error(401, "Unauthorized")
        call = Call(method, params, time.time(), status, token)
        with self._lock:
            self._token_seen = token
            self._calls.append(call)
            listeners = list(self._listeners)
        for listener in listeners:
            listener(call)
        return web.json_response(body, status=status)

    async def _answer(self, method: str, params: JSON) -> tuple[int, JSON]:
        handler = self._handlers.get(method.lower())
        if handler is None:
            return 404, _error(404, "Not Found: method not found")
        with self._lock:
            faults = self._faults.get(method.lower())
            fault = faults.popleft() if faults else None
            if self._outage is not None and time.monotonic() < self._outage[0]:
                fault = self._outage[1]
        if fault is not None:
            extra = None if fault.retry_after is None else {"retry_after": fault.retry_after}
            return fault.status, _error(fault.status, fault.description, extra)
        try:
            result = await handler(params)
        except ApiError as error:
            return error.status, _error(error.status, error.description, error.parameters)
        return 200, {"ok": True, "result": result}

    # --- the methods ---------------------------------------------------------------------

    async def _true(self, params: JSON) -> bool:
        return True

    async def _get_me(self, params: JSON) -> JSON:
        return dict(BOT_USER)

    async def _get_updates(self, params: JSON) -> list[JSON]:
        offset = int(params.get("offset") or 0)
        limit = max(1, min(100, int(params.get("limit") or 100)))
        wait = min(float(params.get("timeout") or 0), MAX_LONG_POLL)
        deadline = self._loop.time() + wait
        while True:
            self._wakeup.clear()
            with self._lock:
                if offset < 0:  # the last -offset updates, forgetting the older ones
                    self._updates = self._updates[offset:]
                else:  # an offset confirms every update before it
                    self._updates = [u for u in self._updates if u["update_id"] >= offset]
                batch = copy.deepcopy(self._updates[:limit])
                stopping = self._stopping
            remaining = deadline - self._loop.time()
            if batch or stopping or remaining <= 0:
                return batch
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), remaining)

    async def _set_my_commands(self, params: JSON) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        for command in commands:
            if not BOT_COMMAND.fullmatch(str(command.get("command"))):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise ApiError(400, "Bad Request: command description is too long")
        with self._lock:
            self._commands[_commands_key(params)] = copy.deepcopy(commands)
        return True

    async def _get_my_commands(self, params: JSON) -> list[JSON]:
        with self._lock:
            return copy.deepcopy(self._commands.get(_commands_key(params), []))

    async def _delete_my_commands(self, params: JSON) -> bool:
        with self._lock:
            self._commands.pop(_commands_key(params), None)
        return True

    async def _send_message(self, params: JSON) -> JSON:
        if "chat_id" not in params:
            raise ApiError(400, "Bad Request: chat_id is empty")
        text = params.get("text")
        if not text:
            raise ApiError(400, "Bad Request: message text is empty")
        check_text(str(text), params.get("parse_mode"))
        check_markup(params.get("reply_markup"))
        with self._lock:
            key = _chat_key(params["chat_id"])
            if key in self._blocked:
                raise ApiError(403, BLOCKED)
            if key in self._refused:
                raise ApiError(400, self._refused[key])
            if key in self._not_started:
                raise ApiError(403, NOT_STARTED)
            chat = self._chat(key, None, None)
            message: JSON = {
                "message_id": self._next_message_id(chat),
                "from": dict(BOT_AS_SENDER),
                "chat": copy.deepcopy(chat.info),
                "date": int(time.time()),
                "text": str(text),
            }
            markup = params.get("reply_markup")
            if isinstance(markup, dict) and "inline_keyboard" in markup:
                message["reply_markup"] = copy.deepcopy(markup)
            chat.messages[message["message_id"]] = message
        await asyncio.sleep(self.send_latency)
        return copy.deepcopy(message)

    async def _edit_message_text(self, params: JSON) -> JSON:
        text = params.get("text")
        if not text:
            raise ApiError(400, "Bad Request: message text is empty")
        check_text(str(text), params.get("parse_mode"))
        check_markup(params.get("reply_markup"))
        return self._edit(params, text=str(text))

    async def _edit_message_reply_markup(self, params: JSON) -> JSON:
        check_markup(params.get("reply_markup"))
        return self._edit(params, text=None)

    def _edit(self, params: JSON, text: str | None) -> JSON:
        with self._lock:
            _, message = self._message_for_edit(params)
            if text is not None and "text" not in message:
                raise ApiError(400, "Bad Request: there is no text in the message to edit")
            markup = params.get("reply_markup")
            markup = markup if isinstance(markup, dict) and "inline_keyboard" in markup else None
            new_text = message.get("text") if text is None else text
            if new_text == message.get("text") and markup == message.get("reply_markup"):
                raise ApiError(
                    400,
                    "Bad Request: message is not modified: specified new message content and "
                    "reply markup are exactly the same as a current content and reply markup "
                    "of the message",
                )
            if new_text is not None:
                message["text"] = new_text
            # As in Telegram, an edit without reply_markup removes the inline keyboard.
            if markup is None:
                message.pop("reply_markup", None)
            else:
                message["reply_markup"] = copy.deepcopy(markup)
            message["edit_date"] = int(time.time())
            return copy.deepcopy(message)

    async def _answer_callback_query(self, params: JSON) -> bool:
        if len(str(params.get("text", ""))) > MAX_CALLBACK_ANSWER:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        with self._lock:
            if params.get("callback_query_id") not in self._issued_callbacks:
                raise ApiError(
                    400,
                    "Bad Request: query is too old and response timeout expired or query ID "
                    "is invalid",
                )
        return True

    async def _answer_inline_query(self, params: JSON) -> bool:
        query_id = str(params.get("inline_query_id"))
        results = params.get("results")
        check_inline_results(results)
        with self._lock:
            if self._inline_queries.get(query_id) != {}:
                raise ApiError(400, "Bad Request: QUERY_ID_INVALID")
            self._inline_queries[query_id] = {key: copy.deepcopy(v) for key, v in params.items()}
        return True

    async def _send_poll(self, params: JSON) -> JSON:
        question = str(params.get("question") or "")
        if not 1 <= len(question) <= MAX_POLL_QUESTION:
            raise ApiError(400, "Bad Request: poll question length must not exceed 300")
        options = _poll_options(params)
        with self._lock:
            key = _chat_key(params.get("chat_id"))
            if key in self._blocked:
                raise ApiError(403, BLOCKED)
            chat = self._chat(key, None, None)
            poll_id = str(next(self._poll_ids))
            message: JSON = {
                "message_id": self._next_message_id(chat),
                "from": dict(BOT_AS_SENDER),
                "chat": copy.deepcopy(chat.info),
                "date": int(time.time()),
                "poll": {
                    "id": poll_id,
                    "question": question,
                    "options": [
                        {"text": text, "voter_count": 0, "persistent_id": f"{poll_id}-{n}"}
                        for n, text in enumerate(options)
                    ],
                    "total_voter_count": 0,
                    "is_closed": False,
                    "allows_revoting": True,
                    "members_only": False,
                    "is_anonymous": params.get("is_anonymous", True) is not False,
                    "type": params.get("type") or "regular",
                    "allows_multiple_answers": bool(params.get("allows_multiple_answers")),
                },
            }
            markup = params.get("reply_markup")
            if isinstance(markup, dict) and "inline_keyboard" in markup:
                message["reply_markup"] = copy.deepcopy(markup)
            chat.messages[message["message_id"]] = message
            self._polls[poll_id] = (key, message["message_id"])
            return copy.deepcopy(message)

    async def _stop_poll(self, params: JSON) -> JSON:
        with self._lock:
            _, message = self._message_for_edit(params)
            poll = message.get("poll")
            if poll is None:
                raise ApiError(400, "Bad Request: message with poll to stop not found")
            if poll["is_closed"]:
                raise ApiError(400, "Bad Request: poll has already been closed")
            poll["is_closed"] = True
            markup = params.get("reply_markup")
            if isinstance(markup, dict) and "inline_keyboard" in markup:
                message["reply_markup"] = copy.deepcopy(markup)
            else:
                message.pop("reply_markup", None)
            return copy.deepcopy(poll)

    async def _delete_message(self, params: JSON) -> bool:
        with self._lock:
            chat = self._chats.get(_chat_key(params.get("chat_id")))
            if chat is not None:
                chat.messages.pop(_message_id(params), None)
        return True


def _poll_options(params: JSON) -> list[str]:
    """The options of sendPoll, given as strings or InputPollOption objects, as Telegram
    checks them."""
    options = params.get("options")
    if not isinstance(options, list) or not POLL_OPTIONS[0] <= len(options) <= POLL_OPTIONS[1]:
        raise ApiError(400, "Bad Request: poll must have 2-12 options")
    texts = [option.get("text") if isinstance(option, dict) else option for option in options]
    if not all(isinstance(text, str) and 1 <= len(text) <= MAX_POLL_OPTION for text in texts):
        raise ApiError(400, "Bad Request: poll options length must not exceed 100")
    return [str(text) for text in texts]


def _message_id(params: JSON) -> int:
    value = params.get("message_id")
    return value if isinstance(value, int) else -1


def _commands_key(params: JSON) -> tuple[str, str]:
    scope = params.get("scope")
    scope_key = "default" if scope in (None, {"type": "default"}) else json.dumps(scope)
    return scope_key, str(params.get("language_code") or "")


def _error(status: int, description: str, parameters: JSON | None = None) -> JSON:
    body: JSON = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return body


def _default_description(status: int) -> str:
    return {
        400: "Bad Request: injected failure",
        403: "Forbidden: injected failure",
        409: "Conflict: injected failure",
        500: "Internal Server Error",
        502: "Bad Gateway",
        503: "Service Unavailable",
    }.get(status, f"Error {status}: injected failure")


async def _read_params(request: web.Request) -> JSON:
    """Query string plus body (form-encoded, multipart or JSON), values decoded."""
    raw: dict[str, Any] = dict(request.query)
    if request.method == "POST" and request.can_read_body:
        if request.content_type == "application/json":
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError("the JSON body is not an object")
            raw.update(body)
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    raw[key] = {
                        "filename": value.filename,
                        "content_type": value.content_type,
                        "data": value.file.read(),
                    }
                else:
                    raw[key] = value
    return {key: _decode(key, value) for key, value in raw.items()}
