"""Keys, DSSE envelopes, signed checkpoints and the station log.

References are written out by hand from the specifications (DSSE's PAE example, the
signed-note key hash) or computed with ``cryptography``/``hashlib`` directly, not with
the helpers under test.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from skyfence.cli import main
from skyfence.errors import DataError, UsageError
from skyfence.evidence import merkle
from skyfence.evidence.checkpoint import parse_checkpoint, sign_checkpoint
from skyfence.evidence.dsse import pae, read_envelope, sign_statement
from skyfence.evidence.keys import SigningKey, init_keys, load_public_key, load_signing_key
from skyfence.evidence.log import StationLog


def test_pae_is_the_dsse_encoding() -> None:
    # DSSE protocol.md example: PAE("http://example.com/HelloWorld", "hello world")
    assert pae("http://example.com/HelloWorld", b"hello world") == (
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world")
    # lengths are byte counts, not characters
    assert pae("t", "é".encode()) == b"DSSEv1 1 t 2 \xc3\xa9"


def test_keys_init_writes_0600_private_key_named_by_key_id(tmp_path: Path) -> None:
    key = init_keys(tmp_path / "k")
    raw = key.private.public_key().public_bytes(serialization.Encoding.Raw,
                                               serialization.PublicFormat.Raw)
    kid = hashlib.sha256(raw).hexdigest()
    assert key.key_id == kid
    priv, pub = tmp_path / "k" / f"{kid}.key", tmp_path / "k" / f"{kid}.pub"
    assert stat.S_IMODE(priv.stat().st_mode) == 0o600
    assert b"PRIVATE" not in pub.read_bytes()
    assert load_signing_key(tmp_path / "k").key_id == kid
    assert load_public_key(pub).public_bytes(serialization.Encoding.Raw,
                                             serialization.PublicFormat.Raw) == raw


def test_private_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    key = init_keys(tmp_path)
    assert key.path is not None
    os.chmod(key.path, 0o644)
    with pytest.raises(UsageError, match="chmod 600"):
        load_signing_key(tmp_path)


def test_two_keys_in_one_directory_need_a_choice(tmp_path: Path) -> None:
    init_keys(tmp_path)
    init_keys(tmp_path)
    with pytest.raises(UsageError, match="2 private keys"):
        load_signing_key(tmp_path)


def test_keys_cli_init_and_show(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "init", "--dir", str(tmp_path)]) == 0
    kid = capsys.readouterr().out.split()[2]
    assert main(["keys", "show", "--dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(kid) and "BEGIN PUBLIC KEY" in out and "PRIVATE" not in out
    assert main(["keys", "show", "--dir", str(tmp_path / "none")]) == 2


def test_envelope_signature_verifies_with_cryptography_directly(tmp_path: Path) -> None:
    key = init_keys(tmp_path)
    statement = {"_type": "https://in-toto.io/Statement/v1", "subject": [],
                 "predicateType": "urn:x", "predicate": {"a": 1}}
    env = sign_statement(statement, key)
    body = base64.b64decode(env["payload"])
    assert json.loads(body) == statement
    assert env["payloadType"] == "application/vnd.in-toto+json"
    assert env["signatures"][0]["keyid"] == key.key_id
    signed = b"DSSEv1 28 application/vnd.in-toto+json %d " % len(body) + body
    key.public.verify(base64.b64decode(env["signatures"][0]["sig"]), signed)  # raises if bad
    parsed = read_envelope(json.dumps(env).encode())
    assert parsed.signed_by(key.public)
    assert not parsed.signed_by(Ed25519PrivateKey.generate().public_key())
    env["payload"] = base64.b64encode(body.replace(b'"a":1', b'"a":2')).decode()
    assert not read_envelope(json.dumps(env).encode()).signed_by(key.public)


def test_envelopes_of_other_kinds_are_refused_by_name(tmp_path: Path) -> None:
    """An envelope of another payload type, or whose payload is JSON but not an in-toto
    Statement v1, is refused naming what is wrong (DSSE and in-toto: the type strings
    ``application/vnd.in-toto+json`` and ``https://in-toto.io/Statement/v1``), even when
    signed by our own key; a signature carrying another key's id is not ours, even where
    its bytes would verify."""
    from skyfence.evidence.dsse import EnvelopeError

    key = init_keys(tmp_path)
    statement = {"_type": "https://in-toto.io/Statement/v1", "subject": [],
                 "predicateType": "urn:x", "predicate": {}}
    other_type = dict(sign_statement(statement, key), payloadType="text/plain")
    with pytest.raises(EnvelopeError, match="payloadType is 'text/plain'"):
        read_envelope(json.dumps(other_type).encode())
    not_in_toto = sign_statement({"_type": "urn:something-else", "x": 1}, key)
    with pytest.raises(EnvelopeError, match="not an in-toto Statement v1"):
        read_envelope(json.dumps(not_in_toto).encode())
    env = sign_statement(statement, key)
    env["signatures"][0]["keyid"] = "0" * len(key.key_id)
    assert not read_envelope(json.dumps(env).encode()).signed_by(key.public)


def test_checkpoint_is_a_signed_note(tmp_path: Path) -> None:
    key = init_keys(tmp_path)
    root = hashlib.sha256(b"root").digest()
    cp = sign_checkpoint("example.org/log", 7, root, key)
    body = f"example.org/log\n7\n{base64.b64encode(root).decode()}\n".encode()
    assert cp.text.startswith(body.decode() + "\n\u2014 example.org/log ")
    blob = base64.b64decode(cp.text.rstrip("\n").split(" ")[-1])
    raw = key.public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert blob[:4] == hashlib.sha256(b"example.org/log\n\x01" + raw).digest()[:4]
    key.public.verify(blob[4:], body)
    again = parse_checkpoint(cp.text)
    assert (again.origin, again.size, again.root) == ("example.org/log", 7, root)
    assert again.verify(key.public)
    assert not again.verify(init_keys(tmp_path / "other").public)
    forged = parse_checkpoint(cp.text.replace("\n7\n", "\n8\n", 1))
    assert not forged.verify(key.public)


def _key(tmp_path: Path) -> SigningKey:
    return init_keys(tmp_path / "keys")


def test_log_receipts_prove_inclusion_and_growth_is_consistent(tmp_path: Path) -> None:
    key = _key(tmp_path)
    slog = StationLog(tmp_path / "log")
    data = [hashlib.sha256(bytes([i])).digest() for i in range(11)]
    receipts = [slog.append(d, key, {"n": i}) for i, d in enumerate(data)]
    leaves = [hashlib.sha256(b"\x00" + d).digest() for d in data]
    for i, r in enumerate(receipts):
        cp = parse_checkpoint(r["checkpoint"])
        assert cp.verify(key.public) and cp.size == i + 1 == r["tree_size"]
        assert r["index"] == i and r["leaf_hash"] == leaves[i].hex()
        assert merkle.verify_inclusion(i, i + 1, leaves[i],
                                       [bytes.fromhex(h) for h in r["inclusion_proof"]], cp.root)
        # every old checkpoint is a prefix of the final tree
        proof = slog.consistency(i + 1)
        assert merkle.verify_consistency(i + 1, 11, cp.root, slog.root(), proof)
    assert slog.problems() == []


def test_truncated_log_is_detected_and_refuses_to_grow(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = _key(tmp_path)
    slog = StationLog(tmp_path / "log")
    for i in range(5):
        slog.append(bytes([i]) * 32, key)
    entries = (tmp_path / "log" / "entries.jsonl").read_text().splitlines(keepends=True)
    (tmp_path / "log" / "entries.jsonl").write_text("".join(entries[:3]))
    problems = slog.problems()
    assert any("signs 5 entries but the log holds only 3" in p for p in problems)
    with pytest.raises(DataError, match="truncated"):
        slog.append(b"\x09" * 32, key)
    assert main(["log", "show", "--log", str(tmp_path / "log")]) == 1
    assert "truncated" in capsys.readouterr().err


def test_log_refuses_another_key(tmp_path: Path) -> None:
    slog = StationLog(tmp_path / "log")
    slog.append(b"\x01" * 32, _key(tmp_path))
    with pytest.raises(UsageError, match="signed by key"):
        slog.append(b"\x02" * 32, init_keys(tmp_path / "other"))


def test_log_cli_prove_and_consistency(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                       ) -> None:
    key = _key(tmp_path)
    slog = StationLog(tmp_path / "log")
    for i in range(6):
        slog.append(bytes([i]) * 32, key)
    capsys.readouterr()
    assert main(["log", "prove", "4", "--log", str(tmp_path / "log")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["verified"] and out["tree_size"] == 6 and len(out["inclusion_proof"]) == 2
    assert main(["log", "consistency", "3", "--log", str(tmp_path / "log")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["verified"] and out["matches_signed_checkpoint"] == {"3": True, "6": True}
    assert main(["log", "prove", "9", "--log", str(tmp_path / "log")]) == 2
