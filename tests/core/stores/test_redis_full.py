"""A Redis at its memory limit (maxmemory, noeviction): a pick is refused whole with
StoreFullError, readiness says so, and the same pick succeeds once there is room."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from redis.exceptions import OutOfMemoryError

from core.errors import StoreFullError
from core.models import UserRef
from core.stores.redis import RedisBackend, RedisProfileStore
from testing.profile_changes import pick, unit_vectors
from testing.redis_servers import RedisServer

ALICE = UserRef("telegram", "1")
MOVIES = unit_vectors(5)


@pytest.fixture
def full_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A server of its own whose memory is filled to its limit with other keys."""
    server = RedisServer(tmp_path, "--maxmemory", "4mb", "--maxmemory-policy", "noeviction")
    server.start()
    filler = redis.Redis.from_url(server.url)
    try:
        for number in range(10_000):
            filler.set(f"filler:{number}", "x" * 10_000)
    except OutOfMemoryError:
        pass
    else:
        pytest.fail("the server never reached its memory limit")
    filler.close()
    yield server
    server.kill()


async def test_a_full_store_refuses_a_pick_whole_and_takes_it_once_there_is_room(
    full_server: RedisServer,
) -> None:
    store = RedisProfileStore.from_url(full_server.url)
    backend = RedisBackend(store)
    try:
        with pytest.raises(StoreFullError, match="memory limit"):
            await store.update(ALICE, pick(1, MOVIES[1]), "key-1")
        assert await store.load(ALICE) is None
        assert await store.pick_counts([1]) == (0,)
        assert isinstance(await backend.readiness(), StoreFullError)

        with redis.Redis.from_url(full_server.url) as admin:
            admin.flushdb()

        assert (await store.update(ALICE, pick(1, MOVIES[1]), "key-1")).applied
        assert (await store.load(ALICE)).picked == (1,)  # type: ignore[union-attr]
        assert await backend.readiness() is None
    finally:
        await backend.close()
