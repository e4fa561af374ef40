"""A ProfileStore in Redis: every pick kept, atomically, durably, at thousands per second.

Key design (``moviebot`` is the configurable prefix)::

    moviebot:{telegram:123}:profile   hash: the user's TasteProfile and idempotency keys
    moviebot:pick_counts              hash: movie id -> users who have it among their picks
    moviebot:embedders                hash: index fingerprint -> embedder name
    moviebot:{telegram:123}:subscription  hash: weekday, hour, timezone of the weekly picks
    moviebot:subscribers              set: the subscription keys of subscribed users
    moviebot:{telegram:123}:pushes    hash: ISO week -> movie ids pushed ("" while claimed)
    moviebot:{telegram:123}:notices   set: what to tell the user once (``Notice`` values)
    moviebot:push:leader              string: the holder of the weekly push's lease

One key for the profile keeps each user's part of an update a single-key write;
``forget`` is one MULTI that deletes all of a user's keys. The ``{platform:user_id}``
hash tag (each part percent-encoded, so ``{``, ``}`` and ``:`` in an id cannot break
it) puts all of a user's keys in one Redis Cluster slot. On one server (with or without
replicas) the update transaction also moves the global ``pick_counts``, and subscribing
moves ``subscribers``. On a cluster (``cluster=True``) a transaction can only touch one
slot: each user's update is a transaction of its own, and the global keys are changed
right after it, so a crash between the two leaves a pick count off by one (a
popularity prior, not a pick) or a subscriber set that a later subscribe repairs. The
fields of the profile hash, and how vectors are encoded, checked and rejected, are in
:mod:`core.stores.profile_hash`.

Why the fingerprint sits in the values and not in the key names: the picks are the
user's taste and do not depend on the model, so they must survive an index rebuilt with
another model; only the vectors depend on it. Every vector carries the fingerprint of
its index; a profile whose fingerprint differs from the running index is never searched
with (the Recommender rebuilds its vector from the picks), and ``moviebot
reindex-profiles`` moves every profile to the new index, keeping vectors when the
embedder recorded in ``embedders`` for the old fingerprint is the current one.

Idempotency keys expire as :mod:`core.stores.retention` says (after 7 days, at most
the newest ``MAX_SEEN_KEYS`` kept). They live in the profile hash, not in keys of their
own, so reading them costs no extra command and ``forget`` deletes them with the rest.

Updates are committed in batches, because a command costs far more Python time in
redis-py's asyncio client than the vector maths of a pick. One writer task takes every
waiting update (up to ``MAX_BATCH``), WATCHes their users' profiles, reads them in one
pipeline, runs each ``change`` in Python (one user's updates in the order they came),
then writes in one MULTI/EXEC the changed fields of every profile and the pick counts
they move (one EVAL of a HINCRBY loop for the whole batch: bookkeeping, no vector
maths). If another client wrote one of those profiles meanwhile, EXEC fails and the
whole batch runs again from a fresh read.

The modules: :mod:`~core.stores.redis.keys` (key names), :mod:`~core.stores.redis.store`
(the profile store), :mod:`~core.stores.redis.writer` (the batched writer),
:mod:`~core.stores.redis.global_keys` (pick counts and subscribers, in or after a
transaction), :mod:`~core.stores.redis.ledger` (the push ledger),
:mod:`~core.stores.redis.availability` (errors, retries, the cluster's start),
:mod:`~core.stores.redis.client` (the client and its replies) and
:mod:`~core.stores.redis.backend` (the store and ledger as the wiring holds them).
"""

from core.stores.redis.backend import RedisBackend
from core.stores.redis.keys import RedisKeys
from core.stores.redis.ledger import RedisPushLedger
from core.stores.redis.store import RedisProfileStore

__all__ = ["RedisBackend", "RedisKeys", "RedisProfileStore", "RedisPushLedger"]
