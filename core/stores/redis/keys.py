"""The names of the store's keys (see the package docstring for what each holds)."""

from __future__ import annotations

from urllib.parse import quote, unquote

from core.models import UserRef


class RedisKeys:
    """The names of the store's keys; see the package docstring."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.pick_counts = f"{prefix}:pick_counts"
        self.embedders = f"{prefix}:embedders"
        self.subscribers = f"{prefix}:subscribers"
        self.push_leader = f"{prefix}:push:leader"
        self.community_sources = f"{prefix}:community:sources"
        self.profile_pattern = f"{_glob_escaped(prefix)}:{{*}}:profile"

    def profile(self, user: UserRef) -> str:
        return f"{self._user_part(user)}:profile"

    def subscription(self, user: UserRef) -> str:
        return f"{self._user_part(user)}:subscription"

    def language(self, user: UserRef) -> str:
        return f"{self._user_part(user)}:language"

    def notices(self, user: UserRef) -> str:
        return f"{self._user_part(user)}:notices"

    def pushes(self, user: UserRef) -> str:
        return f"{self._user_part(user)}:pushes"

    def co_picks(self, movie_id: int) -> str:
        """One movie's co-pick counts; its own hash tag, so a cluster spreads them."""
        return f"{self.prefix}:{{movie:{movie_id}}}:co_picks"

    def rate(self, user: UserRef, name: str) -> str:
        return f"{self._user_part(user)}:rate:{name}"

    def user_of(self, key_name: bytes | str, kind: str = "profile") -> UserRef | None:
        """The user a key of this ``kind`` (profile, subscription) belongs to, or
        ``None`` for a key of another shape."""
        key = key_name.decode() if isinstance(key_name, bytes) else key_name
        head, tail = f"{self.prefix}:{{", f"}}:{kind}"
        tag = key[len(head) : -len(tail)] if key.startswith(head) and key.endswith(tail) else ""
        platform, colon, user_id = tag.partition(":")
        return UserRef(unquote(platform), unquote(user_id)) if colon else None

    def _user_part(self, user: UserRef) -> str:
        return f"{self.prefix}:{{{quote(user.platform, safe='')}:{quote(user.user_id, safe='')}}}"


def _glob_escaped(text: str) -> str:
    return "".join(f"\\{char}" if char in "*?[]\\" else char for char in text)
