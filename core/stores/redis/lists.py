"""The lists users were shown, in one Redis hash per user: list id -> the list.

A list is stored compactly, since a user may have ``KEPT_LISTS`` of them: a JSON header
(kind, the movie a similar list is about, the exploration, the reason kinds used), a
newline, then one 21-byte record per movie: id (int64), score (float32), reason (uint8:
0 for none, else 1 + its place among the header's reasons) and the reason's pick
(int64, -1 for none), little-endian. 50 movies take about 1.1 KB.
"""

from __future__ import annotations

import json
import logging
import struct

from core.models import Exploration, ListKind, ReasonKind, ShownEntry, ShownList, UserRef
from core.stores.redis.availability import Gate, read_with_retries, unavailable_as_error
from core.stores.redis.client import Client, as_bytes
from core.stores.redis.keys import RedisKeys
from core.stores.shown_lists import KEPT_LISTS, KEPT_SECONDS

log = logging.getLogger(__name__)
_ENTRY = struct.Struct("<qfBq")

# Keep the list, drop the user's oldest lists past ARGV[3] (ids grow with time), and keep
# the hash ARGV[4] seconds after this newest list.
_SAVE = """
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local ids = redis.call('HKEYS', KEYS[1])
local kept = tonumber(ARGV[3])
if #ids > kept then
    table.sort(ids, function(a, b) return tonumber(a) < tonumber(b) end)
    for i = 1, #ids - kept do redis.call('HDEL', KEYS[1], ids[i]) end
end
redis.call('EXPIRE', KEYS[1], ARGV[4])
"""


class RedisListStore:
    """A user's ``kept`` newest lists, for ``seconds`` after the newest was shown."""

    def __init__(
        self,
        client: Client,
        gate: Gate,
        keys: RedisKeys,
        kept: int = KEPT_LISTS,
        seconds: int = KEPT_SECONDS,
    ) -> None:
        self._client, self._gate, self._keys = client, gate, keys
        self._kept, self._seconds = kept, seconds

    async def save(self, user: UserRef, list_id: int, shown: ShownList) -> None:
        """Keep ``shown`` as the user's list ``list_id``.

        Raises:
            StoreUnavailableError: Redis cannot be reached in time, or is full.
        """
        key = self._keys.lists(user)
        async with unavailable_as_error(self._client, self._gate, f"keep a list of {user.key}"):
            args = (list_id, encode_list(shown), self._kept, self._seconds)
            await self._client.eval(_SAVE, 1, key, *args)

    async def load(self, user: UserRef, list_id: int) -> ShownList | None:
        """The user's list ``list_id``, or ``None`` (an unreadable one is logged).

        Raises:
            StoreUnavailableError: Redis cannot be reached in time.
        """
        key = self._keys.lists(user)
        action = f"read a list of {user.key}"
        raw = await read_with_retries(
            self._client, self._gate, action, lambda: self._client.hget(key, str(list_id))
        )
        if raw is None:
            return None
        try:
            return decode_list(as_bytes(raw))
        except (ValueError, KeyError, TypeError, struct.error) as error:
            log.warning("ignored an unreadable list of %s: %s", user.key, error)
            return None


def encode_list(shown: ShownList) -> bytes:
    """The stored form of a list (see the module docstring)."""
    reasons = sorted({entry.reason for entry in shown.entries if entry.reason is not None})
    explored = shown.exploration
    header = {
        "kind": shown.kind.value,
        "about": shown.about,
        "exploration": None if explored is None else [explored.strategy, explored.strength],
        "reasons": [reason.value for reason in reasons],
    }
    records = b"".join(
        _ENTRY.pack(
            entry.movie_id,
            entry.score,
            0 if entry.reason is None else 1 + reasons.index(entry.reason),
            -1 if entry.pick_id is None else entry.pick_id,
        )
        for entry in shown.entries
    )
    return json.dumps(header, separators=(",", ":")).encode() + b"\n" + records


def decode_list(data: bytes) -> ShownList:
    """A list from its stored form.

    Raises:
        ValueError, KeyError, TypeError, struct.error: the data is not a stored list.
    """
    head, _, records = data.partition(b"\n")
    header = json.loads(head)
    reasons = [ReasonKind(value) for value in header["reasons"]]
    entries = tuple(
        ShownEntry(
            movie_id,
            score,
            None if reason == 0 else reasons[reason - 1],
            None if pick_id < 0 else pick_id,
        )
        for movie_id, score, reason, pick_id in _ENTRY.iter_unpack(records)
    )
    explored, about = header["exploration"], header["about"]
    exploration = None if explored is None else Exploration(explored[0], explored[1])
    about = None if about is None else int(about)
    return ShownList(ListKind(header["kind"]), entries, about, exploration)
