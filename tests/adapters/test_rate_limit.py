"""Per-user limits."""

from __future__ import annotations

from adapters.rate_limit import UserRateLimit
from core.models import UserRef

ALICE = UserRef("telegram", "42")


async def test_the_rate_limit_counts_per_user() -> None:
    limit = UserRateLimit(limit=3, window=10.0)
    assert [await limit.allow(ALICE, now=float(t)) for t in range(4)] == [True, True, True, False]
    assert await limit.allow(UserRef("telegram", "7"), now=3.0)
    assert await limit.allow(ALICE, now=10.5)  # the first request left the window


async def test_the_limit_forgets_the_least_recent_user_when_full() -> None:
    limit = UserRateLimit(limit=1, window=60.0, users=2)
    bob, carol = UserRef("discord", "1"), UserRef("discord", "2")
    assert await limit.allow(ALICE, now=0.0)
    assert await limit.allow(bob, now=1.0)
    assert await limit.allow(carol, now=2.0)  # ALICE's request is forgotten
    assert await limit.allow(ALICE, now=3.0)
    assert not await limit.allow(carol, now=4.0)
