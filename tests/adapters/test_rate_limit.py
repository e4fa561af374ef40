"""Per-user limits."""

from __future__ import annotations

from adapters.rate_limit import SearchRateLimit
from core.models import UserRef

ALICE = UserRef("telegram", "42")


def test_search_rate_limit_per_user() -> None:
    searches = SearchRateLimit(limit=3, window=10.0)
    assert [searches.allow(ALICE, now=float(t)) for t in range(4)] == [True, True, True, False]
    assert searches.allow(UserRef("telegram", "7"), now=3.0)
    assert searches.allow(ALICE, now=10.5)  # the first search left the window


def test_the_limit_forgets_the_least_recent_user_when_full() -> None:
    searches = SearchRateLimit(limit=1, window=60.0, users=2)
    bob, carol = UserRef("discord", "1"), UserRef("discord", "2")
    assert searches.allow(ALICE, now=0.0)
    assert searches.allow(bob, now=1.0)
    assert searches.allow(carol, now=2.0)  # ALICE's search is forgotten
    assert searches.allow(ALICE, now=3.0)
    assert not searches.allow(carol, now=4.0)
