"""The Merkle tree of RFC 6962 / RFC 9162 (section 2.1): roots, inclusion and
consistency proofs, and their verification.

- leaf hash ``SHA-256(0x00 || data)``, node hash ``SHA-256(0x01 || left || right)``;
- the tree of ``n`` leaves splits at ``k``, the largest power of two below ``n``
  (``MTH(D[n]) = node(MTH(D[0:k]), MTH(D[k:n]))``); the empty tree's root is
  ``SHA-256("")``;
- an inclusion proof is the audit path ``PATH(m, D[n])`` (RFC 9162 2.1.3.1), siblings
  from the leaf up; a consistency proof is ``PROOF(m, D[n])`` (2.1.4.1);
- verification follows RFC 9162 2.1.3.2 and 2.1.4.2 bit for bit, so a proof made by
  any RFC 6962 log (Certificate Transparency, Trillian, sigstore's Rekor) checks here.

Functions take leaf *hashes* (32 bytes each); a log keeps those, not the data.
Sub-tree roots are computed bottom-up level by level, so a root over ``n`` leaves
costs ``n - 1`` node hashes and no recursion deeper than ``log2 n``.

>>> leaves = [leaf_hash(bytes([i])) for i in range(5)]
>>> proof = inclusion_proof(leaves, 3)
>>> verify_inclusion(3, 5, leaves[3], proof, tree_root(leaves))
True
>>> verify_consistency(3, 5, tree_root(leaves[:3]), tree_root(leaves),
...                    consistency_proof(leaves, 3))
True
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "prefix_roots",
    "root_from_inclusion",
    "tree_root",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
#: the root of the empty tree: SHA-256 of the empty string
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """``SHA-256(0x00 || data)``: the hash of one log entry."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)``: the hash of an interior node."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly below ``n`` (``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


def tree_root(leaves: Sequence[bytes]) -> bytes:
    """``MTH(D[n])`` of leaf hashes ``leaves``.

    Built level by level: pairing neighbours left to right and carrying an odd last
    node up unchanged gives exactly the RFC's split at the largest power of two (the
    left sub-trees are complete, only the rightmost one is ragged).
    """
    if not leaves:
        return EMPTY_ROOT
    level = list(leaves)
    while len(level) > 1:
        nxt = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def prefix_roots(leaves: Sequence[bytes], sizes: Iterable[int]) -> dict[int, bytes]:
    """``MTH(D[0:m])`` for every ``m`` in ``sizes``, in one pass over ``leaves``.

    A stack of perfect sub-trees (the binary decomposition of the leaves seen so far) is
    kept while appending; folding it from the right gives the root of the prefix. Cost
    ``O(n + k log n)`` for ``k`` sizes instead of ``O(n k)``.
    """
    want = set(sizes)
    out: dict[int, bytes] = {0: EMPTY_ROOT} if 0 in want else {}
    stack: list[tuple[int, bytes]] = []  # (height, hash), heights strictly decreasing
    for i, leaf in enumerate(leaves, start=1):
        height, node = 0, leaf
        while stack and stack[-1][0] == height:
            node = node_hash(stack.pop()[1], node)
            height += 1
        stack.append((height, node))
        if i in want:
            root = stack[-1][1]
            for _, left in reversed(stack[:-1]):
                root = node_hash(left, root)
            out[i] = root
    return out


def inclusion_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """``PATH(index, D[n])``: the audit path of leaf ``index`` (0-based) in ``leaves``."""
    n = len(leaves)
    if not 0 <= index < n:
        raise ValueError(f"leaf index {index} is outside a tree of {n} leaves")
    return _path(leaves, index)


def _path(leaves: Sequence[bytes], m: int) -> list[bytes]:
    n = len(leaves)
    if n == 1:
        return []
    k = _split(n)
    if m < k:
        return [*_path(leaves[:k], m), tree_root(leaves[k:])]
    return [*_path(leaves[k:], m - k), tree_root(leaves[:k])]


def consistency_proof(leaves: Sequence[bytes], old_size: int) -> list[bytes]:
    """``PROOF(old_size, D[n])``: proves the first ``old_size`` leaves' tree is a prefix."""
    n = len(leaves)
    if not 0 <= old_size <= n:
        raise ValueError(f"old size {old_size} is outside 0..{n}")
    if old_size in (0, n):
        return []
    return _subproof(old_size, leaves, True)


def _subproof(m: int, leaves: Sequence[bytes], complete: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [tree_root(leaves)]
    k = _split(n)
    if m <= k:
        return [*_subproof(m, leaves[:k], complete), tree_root(leaves[k:])]
    return [*_subproof(m - k, leaves[k:], False), tree_root(leaves[:k])]


def root_from_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes]
) -> bytes | None:
    """The root an inclusion proof leads to (RFC 9162 2.1.3.2), or None when the proof
    cannot belong to leaf ``index`` of a tree of ``size`` leaves (wrong length)."""
    if not 0 <= index < size or any(len(p) != HASH_SIZE for p in proof):
        return None
    fn, sn = index, size - 1
    r = leaf
    for p in proof:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> bool:
    """True when ``proof`` shows leaf hash ``leaf`` at ``index`` in the tree ``root``."""
    got = root_from_inclusion(index, size, leaf, proof)
    return got is not None and got == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """True when ``proof`` shows the tree ``old_root`` of ``old_size`` leaves is a prefix
    of the tree ``new_root`` of ``new_size`` leaves (RFC 9162 2.1.4.2)."""
    if not 0 <= old_size <= new_size or any(len(p) != HASH_SIZE for p in proof):
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is on the path
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root
