"""How one user's TasteProfile and idempotency keys are laid out as the fields of a hash.

The fields:

- ``fingerprint``: the index the vectors belong to (model + dim + catalog ids).
- ``picked``, ``disliked``: movie ids in decimal, comma-separated, oldest first; the
  number of picks is the length of ``picked``.
- ``last_pick_at``: Unix time of the last pick.
- ``vector``: the slot of the taste vector: ``"0"`` names the field ``v:0``.
- ``undo``: JSON list of ``[action, movie_id, previous_vector_slot, previous_last_pick_at,
  was_disliked]``, oldest first.
- ``seen``: JSON object of idempotency key -> Unix second it was seen, oldest first.
- ``active_at``: Unix second of the last change; a profile inactive for long is forgotten.
- ``v:<slot>``: one vector. A vector keeps its slot while the profile uses it, and a new
  one takes the lowest free slot, so a pick writes one vector, into the slot of the one
  that left the undo window, instead of rewriting every undo step.

A vector is ``b"f4"``, the fingerprint's length (u16), the fingerprint, the dimension
(u32), then float32 little-endian values. On read a vector of a length other than its
dimension, with NaN or Inf, or tagged with another fingerprint than its profile's is
rejected and logged, never used: a bad taste vector comes back as a profile of no index
(fingerprint ``""``), so the Recommender rebuilds it from the picks; a bad undo step
drops itself and the older ones.
"""

from __future__ import annotations

import functools
import itertools
import json
import logging
import struct
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.models import TasteProfile, UndoAction, UndoStep, UserRef, Vectors

log = logging.getLogger(__name__)

UNUSABLE_FINGERPRINT = ""
"""The fingerprint of a profile whose stored vector was rejected: it fits no index."""
DECODED_VECTORS_CACHED = 8_192
RECENT_PROFILES = 1_024
PICKED = b"picked"
SEEN = b"seen"
ACTIVE_AT = b"active_at"

_VECTOR_MAGIC = b"f4"
_FINGERPRINT_LENGTH = struct.Struct("<H")
_DIM = struct.Struct("<I")
_FINGERPRINT = b"fingerprint"
_DISLIKED = b"disliked"
_LAST_PICK_AT = b"last_pick_at"
_VECTOR = b"vector"
_UNDO = b"undo"
_SLOT_PREFIX = b"v:"


class RejectedVectorError(ValueError):
    """A stored vector is malformed, not finite, or from another index."""


@dataclass(slots=True)
class SlottedVectors:
    """The vectors of one profile, by ``id()``, with their slot and bytes, so that writing
    one back takes no encoding. Valid only while that profile lives."""

    fingerprint: str
    by_id: dict[int, tuple[str, bytes]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DecodedProfile:
    """A profile hash exactly as stored, and what it holds."""

    fields: dict[bytes, bytes]
    profile: TasteProfile
    vectors: SlottedVectors
    seen: dict[str, int]


class RecentProfiles:
    """The last ``RECENT_PROFILES`` profile hashes read or written, decoded: reading the
    same bytes again costs a comparison instead of a decoding."""

    def __init__(self) -> None:
        self._entries: OrderedDict[UserRef, DecodedProfile] = OrderedDict()

    def decode(self, user: UserRef, fields: dict[bytes, bytes]) -> DecodedProfile:
        """The decoded hash, from memory if these are the bytes last seen for the user.

        Raises:
            ValueError: the hash is not a profile (see :func:`decode_profile`).
        """
        entry = self._entries.get(user)
        if entry is None or entry.fields != fields:
            entry = decode_profile(fields, user.key)
        self.remember(user, entry)
        return entry

    def remember(self, user: UserRef, entry: DecodedProfile) -> None:
        """Keep what the user's hash now holds, forgetting the least recent user if full."""
        self._entries[user] = entry
        self._entries.move_to_end(user)
        if len(self._entries) > RECENT_PROFILES:
            self._entries.popitem(last=False)


def encode_vector(vector: Vectors, fingerprint: str) -> bytes:
    """A finite 1-d vector as tagged float32 little-endian bytes (see the module docstring).

    Raises:
        ValueError: the vector is not 1-d or not finite.
    """
    values = np.asarray(vector, dtype="<f4")
    if values.ndim != 1 or not np.isfinite(values).all():
        raise ValueError("a taste vector must be one-dimensional and finite")
    tag = fingerprint.encode()
    header = _VECTOR_MAGIC + _FINGERPRINT_LENGTH.pack(len(tag)) + tag + _DIM.pack(len(values))
    return header + values.tobytes()


@functools.lru_cache(maxsize=DECODED_VECTORS_CACHED)
def decode_vector(blob: bytes, fingerprint: str) -> Vectors:
    """The read-only vector of ``blob``, checked against its tag and ``fingerprint``.

    The last ``DECODED_VECTORS_CACHED`` results are kept: a user's next update reads
    the same undo vectors again, and an array over the blob's own bytes costs no copy.

    Raises:
        RejectedVectorError: wrong format or length, another fingerprint, NaN or Inf.
    """
    if not blob.startswith(_VECTOR_MAGIC) or len(blob) < len(_VECTOR_MAGIC) + 2:
        raise RejectedVectorError("not a stored vector")
    offset = len(_VECTOR_MAGIC)
    (tag_length,) = _FINGERPRINT_LENGTH.unpack_from(blob, offset)
    offset += _FINGERPRINT_LENGTH.size
    tag = blob[offset : offset + tag_length].decode(errors="replace")
    offset += tag_length
    if tag != fingerprint:
        raise RejectedVectorError(f"made for index {tag!r}, not {fingerprint!r}")
    if len(blob) < offset + _DIM.size:
        raise RejectedVectorError("truncated")
    (dim,) = _DIM.unpack_from(blob, offset)
    offset += _DIM.size
    if len(blob) - offset != 4 * dim:
        raise RejectedVectorError(f"{len(blob) - offset} bytes for {dim} float32 values")
    vector: Vectors = np.frombuffer(blob, dtype="<f4", count=dim, offset=offset)
    if not np.isfinite(vector).all():
        raise RejectedVectorError("holds NaN or Inf")
    return vector


def encode_profile(
    profile: TasteProfile, previous: SlottedVectors | None = None
) -> tuple[dict[bytes, bytes], SlottedVectors]:
    """The hash fields of a profile (empty and missing values left out), and its vectors.

    Args:
        profile: what to store.
        previous: the vectors of the profile it replaces; those still used keep their slot.

    Raises:
        ValueError: a vector is not 1-d or not finite.
    """
    vectors = [profile.vector, *(step.previous_vector for step in profile.undo)]
    slotted = _place_vectors(vectors, profile.fingerprint, previous)
    slots = [None if vector is None else slotted.by_id[id(vector)][0] for vector in vectors]
    fields = {_SLOT_PREFIX + slot.encode(): blob for slot, blob in slotted.by_id.values()}
    fields[_FINGERPRINT] = profile.fingerprint.encode()
    if profile.picked:
        fields[PICKED] = _ids_text(profile.picked)
    if profile.disliked:
        fields[_DISLIKED] = _ids_text(profile.disliked)
    if profile.last_pick_at is not None:
        fields[_LAST_PICK_AT] = repr(profile.last_pick_at).encode()
    if slots[0] is not None:
        fields[_VECTOR] = slots[0].encode()
    if profile.undo:
        rows = [_undo_row(step, slot) for step, slot in zip(profile.undo, slots[1:], strict=True)]
        fields[_UNDO] = _json(rows)
    return fields, slotted


def encode_seen(seen: Mapping[str, int]) -> bytes:
    """The ``seen`` field: idempotency keys and when they were seen, oldest first."""
    return _json(seen)


def _place_vectors(
    vectors: Sequence[Vectors | None], fingerprint: str, previous: SlottedVectors | None
) -> SlottedVectors:
    """A slot and bytes for each vector.

    A vector of ``previous`` (same fingerprint) keeps its slot and bytes; a new one is
    encoded into the lowest free slot, which may be one that no vector uses any more.
    """
    reuse = previous.by_id if previous and previous.fingerprint == fingerprint else {}
    placed = {
        id(vector): reuse[id(vector)]
        for vector in vectors
        if vector is not None and id(vector) in reuse
    }
    taken = {slot for slot, _ in placed.values()}
    free = (str(n) for n in itertools.count() if str(n) not in taken)
    for vector in vectors:
        if vector is not None and id(vector) not in placed:
            placed[id(vector)] = next(free), encode_vector(vector, fingerprint)
    return SlottedVectors(fingerprint, placed)


def decode_profile(fields: Mapping[bytes, bytes], who: str) -> DecodedProfile:
    """The profile and idempotency keys of a stored hash; rejected vectors are logged and
    left out.

    Args:
        fields: the hash as Redis returned it.
        who: the user's key, for the log.

    Raises:
        ValueError: the hash is not a profile (no fingerprint, ids that are not numbers,
            idempotency keys that are not a JSON object of seconds).
    """
    if _FINGERPRINT not in fields:
        raise ValueError(f"the stored profile of {who} has no fingerprint")
    fingerprint = fields[_FINGERPRINT].decode()
    vectors = SlottedVectors(fingerprint)
    picked, disliked = ids_of(fields.get(PICKED)), ids_of(fields.get(_DISLIKED))
    last_pick_at = fields.get(_LAST_PICK_AT)
    last = None if last_pick_at is None else float(last_pick_at)
    seen = _seen_keys(fields)
    try:
        vector = _slot_vector(fields, fields.get(_VECTOR), vectors)
    except RejectedVectorError as error:
        log.warning("rejected the taste vector of %s (%s); it is rebuilt from picks", who, error)
        unusable = TasteProfile(UNUSABLE_FINGERPRINT, None, picked, disliked, last)
        return DecodedProfile(dict(fields), unusable, SlottedVectors(UNUSABLE_FINGERPRINT), seen)
    undo = _undo_steps(fields, vectors, who)
    profile = TasteProfile(fingerprint, vector, picked, disliked, last, undo)
    return DecodedProfile(dict(fields), profile, vectors, seen)


def ids_of(text: bytes | None) -> tuple[int, ...]:
    """Movie ids of a ``picked`` or ``disliked`` field."""
    return tuple(map(int, text.split(b","))) if text else ()


def _ids_text(ids: Sequence[int]) -> bytes:
    return ",".join(map(str, ids)).encode()


def _undo_row(step: UndoStep, slot: str | None) -> list[object]:
    return [step.action, step.movie_id, slot, step.previous_last_pick_at, step.was_disliked]


def _undo_steps(
    fields: Mapping[bytes, bytes], vectors: SlottedVectors, who: str
) -> tuple[UndoStep, ...]:
    """The undo steps; a rejected step drops itself and every older step."""
    try:
        rows = json.loads(fields.get(_UNDO, b"[]"))
    except ValueError as error:
        log.warning("dropped the undo history of %s: %s", who, error)
        return ()
    steps: list[UndoStep] = []
    for row in rows:
        try:
            steps.append(_undo_step(row, fields, vectors))
        except (ValueError, TypeError) as error:
            log.warning("rejected an undo step of %s (%s); older steps dropped", who, error)
            steps.clear()
    return tuple(steps)


def _undo_step(row: list[Any], fields: Mapping[bytes, bytes], vectors: SlottedVectors) -> UndoStep:
    action, movie_id, slot, last_pick_at, was_disliked = row
    previous = _slot_vector(fields, slot, vectors)
    at = None if last_pick_at is None else float(last_pick_at)
    return UndoStep(UndoAction(action), int(movie_id), previous, at, bool(was_disliked))


def _slot_vector(
    fields: Mapping[bytes, bytes], slot: object, vectors: SlottedVectors
) -> Vectors | None:
    """The checked vector in ``slot``, recorded in ``vectors``; ``None`` for no slot."""
    if slot is None:
        return None
    name = slot.decode(errors="replace") if isinstance(slot, bytes) else str(slot)
    blob = fields.get(_SLOT_PREFIX + name.encode())
    if blob is None:
        raise RejectedVectorError(f"vector {name} is missing")
    vector = decode_vector(blob, vectors.fingerprint)
    vectors.by_id[id(vector)] = (name, blob)
    return vector


def _seen_keys(fields: Mapping[bytes, bytes]) -> dict[str, int]:
    seen = json.loads(fields.get(SEEN, b"{}"))
    if not isinstance(seen, dict) or not all(isinstance(at, int) for at in seen.values()):
        raise ValueError("the stored idempotency keys are not a JSON object of seconds")
    return seen


def _json(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()
