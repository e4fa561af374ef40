"""A ProfileStore in Redis: every pick kept, atomically, durably, at thousands per second.

Key design (``moviebot`` is the configurable prefix)::

    moviebot:{telegram:123}:profile   hash: the user's TasteProfile and idempotency keys
    moviebot:pick_counts              hash: movie id -> users who have it among their picks
    moviebot:embedders                hash: index fingerprint -> embedder name
    moviebot:{telegram:123}:subscription  hash: weekday, hour, timezone of the weekly picks
    moviebot:subscribers              set: the subscription keys of subscribed users
    moviebot:{telegram:123}:pushes    hash: ISO week -> movie ids pushed, or "@holder@ms" claimed
    moviebot:{telegram:123}:notices   set: what to tell the user once (``Notice`` values)
    moviebot:{telegram:123}:language  string: the language the user speaks with the bot
    moviebot:push:leader              string: the holder of the weekly push's lease
    moviebot:{movie:603}:co_picks     hash: movie id -> times picked close to movie 603
    moviebot:community:sources        set: the seeded chunks of ratings files, by digest
    moviebot:{telegram:123}:rate:requests  sorted set: the user's recent requests (rate limit)
    moviebot:{telegram:123}:lists     hash: list id -> a list the user was shown (for "more")
    moviebot:{lobby:k3x9a2}:lobby     string: a movie night (see the lobbies module)

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

Co-pick counts (:mod:`core.community`) move with the pick counts: the writer computes,
for every profile of a batch, the pairs its change of picks adds or takes back, and one
EVAL per ``KEYS_PER_EVAL`` touched movies (inside the batch's MULTI) increments them,
deletes a pair that falls to zero, and trims a movie past ``trim_above`` pairs back to its
``neighbours`` strongest. So a replayed update moves nothing, an undo takes back exactly
its pick's pairs, and ``forget`` takes back the user's whole share in its own MULTI. On a
cluster each movie's hash has its own slot (hash tag ``{movie:id}``), so the counts go in
one EVAL per movie, pipelined, right after the transaction.

How it scales: a movie holds at most ``trim_above`` pairs (250 with the default 200
neighbours); Valkey and Redis keep such a hash as a listpack (up to 512 entries by
default), measured at about 2 KB with 250 pairs (``MEMORY USAGE``). 100,000 movies
need at most about 200 MB, whatever the number of users: 1M users move counts, they do
not add keys. A pick touches ``window + 1`` movies (11 by default): on one server they
ride in the batch's single EVAL, on a cluster they cost 11 pipelined EVALs.

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
transaction), :mod:`~core.stores.redis.counts` (reading and seeding the shared counts),
:mod:`~core.stores.redis.ledger` (the push ledger),
:mod:`~core.stores.redis.rate_limit` (per-user rate limits shared by processes),
:mod:`~core.stores.redis.lists` (the lists users were shown, for paging),
:mod:`~core.stores.redis.lobbies` (movie nights),
:mod:`~core.stores.redis.availability` (errors, retries, the cluster's start),
:mod:`~core.stores.redis.client` (the client and its replies) and
:mod:`~core.stores.redis.backend` (the store and ledger as the wiring holds them).
"""

from core.stores.redis.backend import RedisBackend
from core.stores.redis.keys import RedisKeys
from core.stores.redis.ledger import RedisPushLedger
from core.stores.redis.store import RedisProfileStore

__all__ = ["RedisBackend", "RedisKeys", "RedisProfileStore", "RedisPushLedger"]
