"""The Redis profile store (see :mod:`core.stores.redis.store`)."""

from core.stores.redis.store import (
    IDEMPOTENCY_TTL_SECONDS,
    RedisKeys,
    RedisProfileStore,
    RedisPushLedger,
)

__all__ = ["IDEMPOTENCY_TTL_SECONDS", "RedisKeys", "RedisProfileStore", "RedisPushLedger"]
