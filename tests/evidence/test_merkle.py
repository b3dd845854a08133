"""The Merkle tree against the published RFC 6962 test vectors and against pymerkle.

The vectors are Certificate Transparency's (the reference leaves ``""``, ``00``, ``10``,
``2021``, ``3031``, ``40414243``, ``5051525354555657``, ``606162..6f``, their tree heads
for sizes 1-8 and the inclusion and consistency proofs the CT log verifier tests use,
as republished in certificate-transparency-go's ``merkle/log_verifier_test.go``). They
were computed by CT's C++ and Go implementations, not by this code.
pymerkle (an independent Python implementation, RFC 9162 hashing with its security
prefixes) gives the second reference over many tree sizes.
"""

from __future__ import annotations

import hashlib

import pytest

from skyfence.evidence import merkle

CT_LEAVES = [bytes.fromhex(h) for h in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f")]
CT_ROOTS = [bytes.fromhex(h) for h in (
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")]
# (leaf number counting from 1, tree size, audit path)
CT_INCLUSION = [
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (3, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (2, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]
CT_CONSISTENCY = [
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]
CT_LEAF_HASHES = [merkle.leaf_hash(d) for d in CT_LEAVES]


def test_hashes_are_the_rfc_prefixed_sha256() -> None:
    # by hand: leaf = SHA-256(0x00 || d), node = SHA-256(0x01 || l || r), empty = SHA-256("")
    assert merkle.leaf_hash(b"ab") == hashlib.sha256(b"\x00ab").digest()
    assert merkle.node_hash(b"l" * 32, b"r" * 32) == hashlib.sha256(
        b"\x01" + b"l" * 32 + b"r" * 32).digest()
    assert merkle.tree_root([]).hex() == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_match_ct_vectors(size: int) -> None:
    assert merkle.tree_root(CT_LEAF_HASHES[:size]) == CT_ROOTS[size - 1]


@pytest.mark.parametrize(("leaf", "size", "path"), CT_INCLUSION)
def test_inclusion_proofs_match_ct_vectors(leaf: int, size: int, path: list[str]) -> None:
    proof = merkle.inclusion_proof(CT_LEAF_HASHES[:size], leaf - 1)
    assert [p.hex() for p in proof] == path
    assert merkle.verify_inclusion(leaf - 1, size, CT_LEAF_HASHES[leaf - 1], proof,
                                   CT_ROOTS[size - 1])


@pytest.mark.parametrize(("old", "new", "path"), CT_CONSISTENCY)
def test_consistency_proofs_match_ct_vectors(old: int, new: int, path: list[str]) -> None:
    proof = merkle.consistency_proof(CT_LEAF_HASHES[:new], old)
    assert [p.hex() for p in proof] == path
    assert merkle.verify_consistency(old, new, CT_ROOTS[old - 1], CT_ROOTS[new - 1], proof)


def _flip(b: bytes) -> bytes:
    return bytes([b[0] ^ 8]) + b[1:]


@pytest.mark.parametrize(("leaf", "size", "path"), CT_INCLUSION)
def test_corrupted_inclusion_proofs_fail(leaf: int, size: int, path: list[str]) -> None:
    """The CT verifier's probes: wrong index, size, leaf, root, extra or missing hashes."""
    proof = [bytes.fromhex(h) for h in path]
    i, lh, root = leaf - 1, CT_LEAF_HASHES[leaf - 1], CT_ROOTS[size - 1]
    probes = [(i - 1, size, lh, proof, root), (i + 1, size, lh, proof, root),
              (i ^ 2, size, lh, proof, root), (i, size * 2, lh, proof, root),
              (i, size // 2, lh, proof, root), (i, size, merkle.leaf_hash(b"WrongLeaf"),
                                                 proof, root),
              (i, size, lh, proof, merkle.EMPTY_ROOT), (i, size, lh, [*proof, root], root),
              (i, size, lh, [root, *proof], root)]
    probes += [(i, size, lh, [*proof[:k], _flip(proof[k]), *proof[k + 1:]], root)
               for k in range(len(proof))]
    if len(proof) > 1:
        probes.append((i, size, lh, proof[:-1], root))
    for idx, n, leaf_h, p, r in probes:
        assert not merkle.verify_inclusion(idx, n, leaf_h, p, r), (idx, n)


@pytest.mark.parametrize(("old", "new", "path"), CT_CONSISTENCY)
def test_corrupted_consistency_proofs_fail(old: int, new: int, path: list[str]) -> None:
    proof = [bytes.fromhex(h) for h in path]
    r1, r2 = CT_ROOTS[old - 1], CT_ROOTS[new - 1]
    probes = [(old - 1, new, r1, r2, proof), (old + 1, new, r1, r2, proof),
              (old ^ 2, new, r1, r2, proof), (old, new * 2, r1, r2, proof),
              (old, new // 2, r1, r2, proof), (old, new, merkle.EMPTY_ROOT, r2, proof),
              (old, new, r1, merkle.EMPTY_ROOT, proof), (old, new, r2, r1, proof),
              (old, new, r1, r2, []), (old, new, r1, r2, [*proof, r1]),
              (old, new, r1, r2, [r2, *proof]), (old, new, r1, r2, proof[:-1])]
    probes += [(old, new, r1, r2, [*proof[:k], _flip(proof[k]), *proof[k + 1:]])
               for k in range(len(proof))]
    for o, n, a, b, p in probes:
        if o == old and n == new and a == r1 and b == r2 and p == proof:
            continue
        assert not merkle.verify_consistency(o, n, a, b, p), (o, n)


def test_agrees_with_pymerkle_over_many_sizes() -> None:
    """Roots, audit paths and consistency for every size 1..50 and every leaf/prefix."""
    pymerkle = pytest.importorskip("pymerkle")
    tree = pymerkle.InmemoryTree(algorithm="sha256")
    data = [f"entry {i}".encode() for i in range(50)]
    leaves = [merkle.leaf_hash(d) for d in data]
    for d in data:
        tree.append_entry(d)
    for size in range(1, 51):
        root = merkle.tree_root(leaves[:size])
        assert root == tree.get_root(size), size
        for i in range(size):
            ours = merkle.inclusion_proof(leaves[:size], i)
            theirs = tree.prove_inclusion(i + 1, size)  # pymerkle counts from 1
            # pymerkle's path starts with the leaf itself, then the siblings bottom-up
            assert theirs.path[0] == leaves[i]
            assert list(theirs.path[1:]) == ours, (i, size)
            assert merkle.verify_inclusion(i, size, leaves[i], ours, root)
        for old in range(1, size + 1):
            proof = merkle.consistency_proof(leaves[:size], old)
            assert merkle.verify_consistency(old, size, tree.get_root(old), tree.get_root(size),
                                             proof), (old, size)
            pymerkle.verify_consistency(tree.get_root(old), tree.get_root(size),
                                        tree.prove_consistency(old, size))


def test_prefix_roots_equal_tree_roots() -> None:
    leaves = [merkle.leaf_hash(bytes([i])) for i in range(40)]
    roots = merkle.prefix_roots(leaves, range(41))
    assert roots == {n: merkle.tree_root(leaves[:n]) for n in range(41)}
    assert merkle.prefix_roots(CT_LEAF_HASHES, [8])[8] == CT_ROOTS[7]


def test_the_empty_tree_is_a_prefix_of_every_tree_with_no_proof() -> None:
    """Every tree extends the empty one: the consistency proof from size 0 is empty (RFC
    9162 2.1.4.1 defines proofs for 0 < m < n only; an empty old tree needs none) and
    the empty root is SHA-256 of nothing (the RFC's MTH({}))."""
    leaves = [merkle.leaf_hash(bytes([i])) for i in range(7)]
    assert merkle.tree_root([]) == hashlib.sha256(b"").digest()
    for n in (1, 2, 7):
        assert merkle.consistency_proof(leaves[:n], 0) == []
