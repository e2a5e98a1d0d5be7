"""Group keys that Flink's batch hash exchange sends to N different tasks, one each.

A training collective needs every one of its N groups on a task of its own, running at once:
two groups on one task would run one after the other, and the first would wait forever for
the second. Flink's batch planner routes a row of an INT group key k to task
murmurHash(k) mod N (BinaryHashPartitioner over the key's hash code, which for one INT is k
itself; MathUtils.murmurHash is the same mixing Flink uses for key groups). So the keys are
chosen, not 0..N-1 (0 and 1 meet on one task of two). The integration test of distributed
training would see a change in that rule: its tasks would not meet.
"""

from __future__ import annotations

_MASK = 0xFFFFFFFF


def shard_keys(tasks: int) -> list[int]:
    """For each task 0..tasks-1, the smallest non-negative INT key routed to it."""
    keys: dict[int, int] = {}
    key = 0
    while len(keys) < tasks:
        keys.setdefault(flink_murmur_hash(key) % tasks, key)
        key += 1
    return [keys[task] for task in range(tasks)]


def flink_murmur_hash(code: int) -> int:
    """org.apache.flink.util.MathUtils.murmurHash(int): non-negative."""
    code = (code * 0xCC9E2D51) & _MASK
    code = _rotate_left(code, 15)
    code = (code * 0x1B873593) & _MASK
    code = _rotate_left(code, 13)
    code = (code * 5 + 0xE6546B64) & _MASK
    code ^= 4
    code = _bit_mix(code)
    signed = code - (1 << 32) if code >> 31 else code
    if signed >= 0:
        return signed
    return -signed if signed != -(1 << 31) else 0


def _rotate_left(value: int, bits: int) -> int:
    return ((value << bits) | (value >> (32 - bits))) & _MASK


def _bit_mix(value: int) -> int:
    value ^= value >> 16
    value = (value * 0x85EBCA6B) & _MASK
    value ^= value >> 13
    value = (value * 0xC2B2AE35) & _MASK
    value ^= value >> 16
    return value
