"""What only RedisProfileStore promises: its keys and encoding, rejection of bad vectors,
idempotency keys that expire, optimistic transactions, durability and failures."""

from __future__ import annotations

import asyncio
import json
import logging
import struct
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import redis
from redis.asyncio import Redis

from core.errors import StoreUnavailableError
from core.models import Subscription, TasteProfile, UserRef
from core.stores.profile_hash import UNUSABLE_FINGERPRINT, encode_vector
from core.stores.redis import RedisKeys, RedisProfileStore
from core.stores.retention import IDEMPOTENCY_TTL_SECONDS
from core.taste import replay_picks
from testing.local_redis import LOCAL_REDIS, delete_prefix, local_redis_store
from testing.profile_changes import EMA_WEIGHT, FINGERPRINT, assert_same_profile, pick, unit_vectors
from testing.redis_servers import DEPLOY_CONFIG, RedisServer, free_port

ALICE = UserRef("telegram", "123")
MOVIES = unit_vectors(1000, dim=24)
FAILURE_DEADLINE = 10.0  # a hang guard, far above the store's own timeouts


async def raw_profile(store: RedisProfileStore, user: UserRef) -> dict[bytes, bytes]:
    client = Redis.from_url(LOCAL_REDIS)
    try:
        return await client.hgetall(store.keys.profile(user))
    finally:
        await client.aclose()


async def set_fields(store: RedisProfileStore, user: UserRef, fields: dict[bytes, bytes]) -> None:
    client = Redis.from_url(LOCAL_REDIS)
    try:
        await client.hset(store.keys.profile(user), mapping=fields)
    finally:
        await client.aclose()


async def picks(store: RedisProfileStore, user: UserRef, movie_ids: range) -> None:
    for movie_id in movie_ids:
        await store.update(user, pick(movie_id, MOVIES[movie_id]), f"pick-{movie_id}")


def test_a_users_keys_share_one_hash_tag() -> None:
    keys = RedisKeys("moviebot")

    assert keys.profile(ALICE) == "moviebot:{telegram:123}:profile"
    assert keys.profile(UserRef("discord", "a}b:c")) == "moviebot:{discord:a%7Db%3Ac}:profile"
    assert keys.pick_counts == "moviebot:pick_counts"


@pytest.mark.parametrize("user_id", ["123", "a}b{c", "a:b", "100%", "ünï"])
def test_a_profile_key_names_its_user(user_id: str) -> None:
    keys = RedisKeys("moviebot")
    user = UserRef("telegram", user_id)

    assert keys.user_of(keys.profile(user).encode()) == user
    assert keys.user_of("moviebot:pick_counts") is None
    assert keys.user_of("other:{telegram:1}:profile") is None


async def test_users_lists_every_stored_user(redis_store: RedisProfileStore) -> None:
    everyone = {ALICE, UserRef("discord", "a}b"), UserRef("telegram", "7")}
    for user in everyone:
        await redis_store.update(user, pick(1, MOVIES[1]))

    assert {user async for user in redis_store.users()} == everyone


async def test_a_vector_is_tagged_float32_little_endian(redis_store: RedisProfileStore) -> None:
    stored = await redis_store.update(ALICE, pick(1, MOVIES[1]))

    fields = await raw_profile(redis_store, ALICE)
    blob = fields[b"v:" + fields[b"vector"]]
    assert stored.profile is not None and stored.profile.vector is not None

    tag = FINGERPRINT.encode()
    assert blob[:2] == b"f4"
    assert struct.unpack_from("<H", blob, 2) == (len(tag),)
    assert blob[4 : 4 + len(tag)] == tag
    assert struct.unpack_from("<I", blob, 4 + len(tag)) == (24,)
    assert blob[8 + len(tag) :] == stored.profile.vector.astype("<f4").tobytes()
    assert fields[b"picked"] == b"1"


async def test_only_vectors_in_use_stay_stored(redis_store: RedisProfileStore) -> None:
    await picks(redis_store, ALICE, range(12))

    fields = await raw_profile(redis_store, ALICE)
    profile = await redis_store.load(ALICE)

    assert profile is not None and len(profile.undo) == 5
    assert sum(field.startswith(b"v:") for field in fields) == 6


def corrupt_blobs() -> dict[str, bytes]:
    good = encode_vector(MOVIES[1], FINGERPRINT)
    nan = MOVIES[1].copy()
    nan[3] = np.nan
    values = good[-4 * 24 :]
    header = good[: -4 * 24]
    return {
        "nan": header + nan.astype("<f4").tobytes(),
        "inf": header + np.full(24, np.inf, "<f4").tobytes(),
        "truncated": good[:-4],
        "too long": good + b"\0\0\0\0",
        "other index": encode_vector(MOVIES[1], "another-index"),
        "not a vector": b"garbage",
        "header only": header[:3],
        "raw floats": values,
    }


@pytest.mark.parametrize("kind", list(corrupt_blobs()))
async def test_a_bad_taste_vector_is_rejected_and_reported(
    redis_store: RedisProfileStore, caplog: pytest.LogCaptureFixture, kind: str
) -> None:
    await picks(redis_store, ALICE, range(3))
    fields = await raw_profile(redis_store, ALICE)
    await set_fields(redis_store, ALICE, {b"v:" + fields[b"vector"]: corrupt_blobs()[kind]})

    with caplog.at_level(logging.WARNING, logger="core.stores.profile_hash"):
        profile = await redis_store.load(ALICE)

    assert profile is not None
    assert profile.fingerprint == UNUSABLE_FINGERPRINT and profile.vector is None
    assert profile.picked == (0, 1, 2) and profile.undo == ()
    assert "telegram:123" in caplog.text and "rejected the taste vector" in caplog.text


async def test_a_missing_vector_is_rejected(redis_store: RedisProfileStore) -> None:
    await picks(redis_store, ALICE, range(2))
    fields = await raw_profile(redis_store, ALICE)
    await set_fields(redis_store, ALICE, {b"vector": b"0123456789abcdef"})

    profile = await redis_store.load(ALICE)

    assert profile is not None and profile.vector is None
    assert profile.fingerprint == UNUSABLE_FINGERPRINT and b"vector" in fields


async def test_a_bad_undo_vector_drops_that_step_and_older_ones(
    redis_store: RedisProfileStore, caplog: pytest.LogCaptureFixture
) -> None:
    await picks(redis_store, ALICE, range(5))
    steps = json.loads((await raw_profile(redis_store, ALICE))[b"undo"])
    bad = steps[2][2].encode()
    await set_fields(redis_store, ALICE, {b"v:" + bad: corrupt_blobs()["nan"]})

    with caplog.at_level(logging.WARNING, logger="core.stores.profile_hash"):
        profile = await redis_store.load(ALICE)

    assert profile is not None and profile.fingerprint == FINGERPRINT
    assert [step.movie_id for step in profile.undo] == [3, 4]
    assert "rejected an undo step" in caplog.text


async def test_an_unknown_undo_action_drops_that_step_and_older_ones(
    redis_store: RedisProfileStore, caplog: pytest.LogCaptureFixture
) -> None:
    await picks(redis_store, ALICE, range(5))
    steps = json.loads((await raw_profile(redis_store, ALICE))[b"undo"])
    assert [step[0] for step in steps] == ["pick"] * 5
    steps[2][0] = "unpick"
    await set_fields(redis_store, ALICE, {b"undo": json.dumps(steps).encode()})

    with caplog.at_level(logging.WARNING, logger="core.stores.profile_hash"):
        profile = await redis_store.load(ALICE)

    assert profile is not None and [step.movie_id for step in profile.undo] == [3, 4]
    assert "rejected an undo step" in caplog.text


async def test_the_next_update_replaces_a_rejected_vector(redis_store: RedisProfileStore) -> None:
    await picks(redis_store, ALICE, range(2))
    fields = await raw_profile(redis_store, ALICE)
    bad_field = b"v:" + fields[b"vector"]
    await set_fields(redis_store, ALICE, {bad_field: corrupt_blobs()["nan"]})

    def rebuild(current: TasteProfile | None) -> TasteProfile | None:
        assert current is not None and current.vector is None
        return replace(current, fingerprint=FINGERPRINT, vector=MOVIES[9])

    await redis_store.update(ALICE, rebuild)

    assert bad_field not in await raw_profile(redis_store, ALICE)
    profile = await redis_store.load(ALICE)
    assert profile is not None and profile.picked == (0, 1) and profile.vector is not None
    np.testing.assert_array_equal(profile.vector, MOVIES[9])


@pytest.mark.parametrize("vector", [np.full(24, np.nan, np.float32), np.ones((2, 12), np.float32)])
async def test_a_bad_vector_is_never_written(
    redis_store: RedisProfileStore, vector: np.ndarray
) -> None:
    await picks(redis_store, ALICE, range(1))
    before = await redis_store.load(ALICE)
    with pytest.raises(ValueError, match="finite"):
        await redis_store.update(ALICE, lambda current: replace(current, vector=vector))

    assert before is not None
    assert_same_profile(await redis_store.load(ALICE), before)


async def test_idempotency_keys_expire_after_a_week(prefix: str) -> None:
    now = [1_700_000_000.0]
    store = RedisProfileStore(Redis.from_url(LOCAL_REDIS), prefix=prefix, clock=lambda: now[0])
    try:
        assert (await store.update(ALICE, pick(1, MOVIES[1]), "old-tap")).applied
        now[0] += IDEMPOTENCY_TTL_SECONDS - 1
        assert not (await store.update(ALICE, pick(2, MOVIES[2]), "old-tap")).applied
        now[0] += 2
        assert (await store.update(ALICE, pick(3, MOVIES[3]), "old-tap")).applied
        assert (await store.update(ALICE, pick(4, MOVIES[4]), "new-tap")).applied

        seen = json.loads((await raw_profile(store, ALICE))[b"seen"])
        assert seen == {"old-tap": int(now[0]), "new-tap": int(now[0])}
    finally:
        await store.close()
        await delete_prefix(prefix)


async def test_a_change_runs_again_when_another_client_wrote_first(
    redis_store: RedisProfileStore,
) -> None:
    await picks(redis_store, ALICE, range(1))
    other = redis.Redis.from_url(LOCAL_REDIS)
    calls: list[TasteProfile | None] = []

    def change(current: TasteProfile | None) -> TasteProfile | None:
        calls.append(current)
        if len(calls) == 1:
            other.hset(redis_store.keys.profile(ALICE), "last_pick_at", "42.0")
        return replace(current, disliked=(7,)) if current else None

    stored = await redis_store.update(ALICE, change)
    other.close()

    assert len(calls) == 2 and calls[1] is not None and calls[1].last_pick_at == 42.0
    profile = await redis_store.load(ALICE)
    assert stored.applied and profile is not None
    assert (profile.last_pick_at, profile.disliked) == (42.0, (7,))


async def test_two_stores_racing_on_the_same_users_lose_nothing(prefix: str) -> None:
    """Two stores, as two bot processes would have, pick for the same 10 users at once,
    one the even movies and one the odd: their transactions conflict, run again, and
    every pick lands exactly once; a third task sends every pick again to either."""
    users = [UserRef("telegram", str(n)) for n in range(10)]
    async with local_redis_store(prefix) as first, local_redis_store(prefix) as second:

        async def user_picks(store: RedisProfileStore, user: UserRef, movies: range) -> None:
            for movie_id in movies:
                await store.update(user, pick(movie_id, MOVIES[movie_id]), f"tap-{movie_id}")

        await asyncio.gather(
            *(
                user_picks(first, user, range(n * 40, n * 40 + 40, 2))
                for n, user in enumerate(users)
            ),
            *(
                user_picks(second, user, range(n * 40 + 1, n * 40 + 40, 2))
                for n, user in enumerate(users)
            ),
            *(
                user_picks(first if n % 2 else second, user, range(n * 40, n * 40 + 40))
                for n, user in enumerate(users)
            ),
        )

        for n, user in enumerate(users):
            profile = await first.load(user)
            assert profile is not None and profile.vector is not None
            assert sorted(profile.picked) == list(range(n * 40, n * 40 + 40))
            expected = replay_picks([MOVIES[i] for i in profile.picked], EMA_WEIGHT)
            np.testing.assert_allclose(profile.vector, expected, atol=1e-5)
        assert await first.pick_counts(range(400)) == (1,) * 400


async def test_one_users_failing_change_leaves_the_batch_alone(
    redis_store: RedisProfileStore,
) -> None:
    def failing(current: TasteProfile | None) -> TasteProfile | None:
        raise KeyError("boom")

    users = [UserRef("telegram", str(n)) for n in range(20)]
    results = await asyncio.gather(
        *(redis_store.update(user, pick(n, MOVIES[n])) for n, user in enumerate(users)),
        redis_store.update(ALICE, failing),
        return_exceptions=True,
    )

    assert isinstance(results[-1], KeyError)
    assert all(not isinstance(result, BaseException) and result.applied for result in results[:-1])
    assert await redis_store.load(ALICE) is None


async def test_acknowledged_picks_survive_kill_9(tmp_path: Path) -> None:
    """deploy/redis.conf (AOF, fsync always): 1,000 picks of 50 users made concurrently
    and acknowledged, SIGKILL, restart on the same directory: all 1,000 are there."""
    users = [UserRef("telegram", str(n)) for n in range(50)]
    acknowledged: dict[UserRef, TasteProfile] = {}

    async def user_picks(store: RedisProfileStore, n: int, user: UserRef) -> None:
        for movie_id in range(n * 20, n * 20 + 20):
            stored = await store.update(user, pick(movie_id, MOVIES[movie_id]), f"tap-{movie_id}")
            assert stored.applied and stored.profile is not None
            acknowledged[user] = stored.profile

    with RedisServer(tmp_path / "redis", config=DEPLOY_CONFIG) as server:
        store = RedisProfileStore.from_url(server.url, timeout=1.0, connect_timeout=1.0)
        await asyncio.gather(*(user_picks(store, n, user) for n, user in enumerate(users)))
        server.kill()
        server.start()

        for user, profile in acknowledged.items():
            assert_same_profile(await store.load(user), profile)
        assert sum(len(profile.picked) for profile in acknowledged.values()) == 1000
        assert await store.pick_counts(range(1000)) == (1,) * 1000
        await store.close()


async def test_unreachable_redis_raises_a_typed_error_in_bounded_time() -> None:
    port = free_port()
    store = RedisProfileStore.from_url(
        f"redis://127.0.0.1:{port}/0", timeout=0.5, connect_timeout=0.5
    )
    calls = {
        "load": lambda: store.load(ALICE),
        "update": lambda: store.update(ALICE, pick(1, MOVIES[1]), "tap"),
        "forget": lambda: store.forget(ALICE),
        "pick_counts": lambda: store.pick_counts([1, 2]),
    }
    for name, call in calls.items():
        async with asyncio.timeout(FAILURE_DEADLINE):
            with pytest.raises(StoreUnavailableError, match=f"127.0.0.1:{port}") as raised:
                await call()
        assert "try again" in str(raised.value), name
    await store.close()


async def test_a_frozen_server_times_out_then_serves_again(tmp_path: Path) -> None:
    with RedisServer(tmp_path, "--save", "", "--appendonly", "no") as server:
        store = RedisProfileStore.from_url(server.url, timeout=0.3, connect_timeout=0.3)
        await picks(store, ALICE, range(1))

        server.pause()
        for call in (store.load(ALICE), store.update(ALICE, pick(2, MOVIES[2]))):
            async with asyncio.timeout(FAILURE_DEADLINE):
                with pytest.raises(StoreUnavailableError, match="unreachable or too slow"):
                    await call
        server.resume()

        assert (await store.update(ALICE, pick(3, MOVIES[3]))).applied
        profile = await store.load(ALICE)
        assert profile is not None and 3 in profile.picked
        await store.close()


async def test_the_same_store_works_again_after_redis_restarts(tmp_path: Path) -> None:
    with RedisServer(tmp_path, config=DEPLOY_CONFIG) as server:
        store = RedisProfileStore.from_url(server.url, timeout=0.5, connect_timeout=0.5)
        await picks(store, ALICE, range(2))

        server.kill()
        async with asyncio.timeout(FAILURE_DEADLINE):
            with pytest.raises(StoreUnavailableError):
                await store.update(ALICE, pick(5, MOVIES[5]))
            with pytest.raises(StoreUnavailableError):
                await store.load(ALICE)
        server.start()

        assert (await store.update(ALICE, pick(6, MOVIES[6]))).applied
        profile = await store.load(ALICE)
        assert profile is not None and profile.picked == (0, 1, 6)
        await store.close()


async def test_the_password_comes_from_the_url_and_stays_out_of_errors(tmp_path: Path) -> None:
    with RedisServer(tmp_path, "--requirepass", "s3cret-pw", "--save", "") as server:
        url = f"redis://:s3cret-pw@127.0.0.1:{server.port}/0"
        store = RedisProfileStore.from_url(url)
        assert (await store.update(ALICE, pick(1, MOVIES[1]))).applied
        await store.close()

        wrong = RedisProfileStore.from_url(url.replace("s3cret-pw", "wrong-pw"))
        with pytest.raises(StoreUnavailableError) as raised:
            await wrong.load(ALICE)
        assert "pw" not in str(raised.value)
        await wrong.close()


async def test_the_pool_never_opens_more_connections_than_configured(tmp_path: Path) -> None:
    with RedisServer(tmp_path, "--save", "") as server:
        store = RedisProfileStore.from_url(server.url, pool_size=3)
        users = [UserRef("telegram", str(n)) for n in range(100)]

        await asyncio.gather(
            *(store.update(user, pick(n, MOVIES[n])) for n, user in enumerate(users)),
            *(store.load(user) for user in users),
            *(store.pick_counts([n]) for n in range(100)),
        )

        watcher = Redis.from_url(server.url)
        clients = (await watcher.info("clients"))["connected_clients"]
        await watcher.aclose()
        assert clients <= 3 + 1
        assert await store.pick_counts(range(100)) == (1,) * 100
        await store.close()


async def test_the_set_of_subscribed_users_follows_subscriptions(prefix: str) -> None:
    async with local_redis_store(prefix) as store:
        client = Redis.from_url(LOCAL_REDIS)
        try:
            await store.set_subscription(ALICE, Subscription(1, 8))
            expected = {store.keys.subscription(ALICE).encode()}
            assert await client.smembers(store.keys.subscribers) == expected
            await store.forget(ALICE)
            assert await client.smembers(store.keys.subscribers) == set()
            assert await client.exists(store.keys.subscription(ALICE)) == 0
        finally:
            await client.aclose()


async def test_a_profile_from_before_activity_times_counts_from_its_last_pick(
    prefix: str,
) -> None:
    old, undated = UserRef("telegram", "old"), UserRef("telegram", "undated")
    async with local_redis_store(prefix) as store:
        for user in (old, undated):
            await store.update(user, pick(1, MOVIES[1]))
        await set_fields(store, old, {b"last_pick_at": b"1000.5"})
        client = Redis.from_url(LOCAL_REDIS)
        await client.hdel(store.keys.profile(old), "active_at")
        await client.hdel(store.keys.profile(undated), "active_at", "last_pick_at")
        await client.aclose()

        assert await store.forget_inactive(before=2_000.0) == 1

        assert await store.load(old) is None
        assert (await raw_profile(store, undated)).get(b"active_at")  # stamped, kept
        assert await store.forget_inactive(before=2_000.0) == 0
