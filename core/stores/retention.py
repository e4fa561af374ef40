"""How long every store keeps idempotency keys and push history, and how it drops them.

Idempotency keys are kept for ``IDEMPOTENCY_TTL_SECONDS`` (7 days): a chat platform
redelivers an update or a client retries within minutes, so a week is ample. An older
key no longer counts and is dropped when the user's profile is next written, keeping at
most the newest ``MAX_SEEN_KEYS``. A user's keys are a mapping of key -> the Unix second
it was seen, oldest first.
"""

from __future__ import annotations

from collections.abc import Mapping

IDEMPOTENCY_TTL_SECONDS = 7 * 86_400
MAX_SEEN_KEYS = 1_000
REMEMBERED_WEEKS = 8


def is_replay(seen: Mapping[str, int], key: str | None, fresh_after: float) -> bool:
    """Whether ``key`` was seen after ``fresh_after``, which makes its update a no-op."""
    seen_at = seen.get(key) if key is not None else None
    return seen_at is not None and seen_at > fresh_after


def remember_key(seen: dict[str, int], key: str, now: float) -> None:
    """Record ``key`` as seen at ``now``, as the newest key."""
    seen.pop(key, None)
    seen[key] = int(now)


def fresh_keys(seen: dict[str, int], fresh_after: float) -> dict[str, int]:
    """The keys seen after ``fresh_after``, at most the newest ``MAX_SEEN_KEYS``."""
    kept = {key: at for key, at in seen.items() if at > fresh_after}
    return dict(list(kept.items())[-MAX_SEEN_KEYS:]) if len(kept) > MAX_SEEN_KEYS else kept
