"""`skyfence serve`'s HTTP API over a replayed incursion: health, login and sessions,
tokens, roles, the incident lifecycle with its audit, dossier downloads.

The replay is the crossing of ``serve_helpers`` (an aircraft with a Russian ICAO address
entering a 10 km circle 20 s after its first fix, a Finnish airliner passing 50 km
north); expectations are derived there by hand.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import pytest

from service.conftest import Served
from service.serve_helpers import INTRUDER, entry_time

pytestmark = pytest.mark.timeout(120)


def incident_of(served: Served) -> dict[str, Any]:
    r = served.client.get("/api/incidents", params={"all": "true"},
                          headers=served.as_role("viewer"))
    assert r.status_code == 200
    incs = r.json()["incidents"]
    assert len(incs) == 1, incs
    return dict(incs[0])


def test_health_needs_no_login_and_counts_every_replayed_row(served: Served) -> None:
    r = served.client.get("/health")
    assert r.status_code == 200
    body = r.json()
    # rows written: 91 fixes of the intruder (0..90 s), 19 of the airliner (every 5th)
    assert body["positions"] == 91 + 19
    assert body["status"] == "ok" and body["pipeline_running"] is False  # the replay ended


def test_the_incursion_is_one_violation_of_the_intruder_only(served: Served) -> None:
    inc = incident_of(served)
    assert inc["track"] == INTRUDER and inc["zone"] == "TESTZ" and inc["violation"]
    assert inc["state"] == "open" and not inc["emergency"]
    from skyfence.evidence.timefmt import parse_iso

    # entered 20 s after the first fix (serve_helpers), interpolated between two fixes
    assert abs(parse_iso(inc["first_entered_at"]) - entry_time()) < 1.0
    # still inside at the last fix (90 s; it would leave the circle at 100 s): the entry
    # ends there, open, when the replay ends
    assert parse_iso(inc["last_exited_at"]) == entry_time() - 20.0 + 90.0
    # the picture still holds both aircraft, the intruder marked by its open entry
    tracks = {t["id"]: t for t in served.client.get(
        "/api/tracks", headers=served.as_role("viewer")).json()["tracks"]}
    assert set(tracks) == {INTRUDER, "461e2a"}
    assert tracks[INTRUDER]["severity"] == inc["severity"] and tracks["461e2a"]["severity"] is None
    assert tracks[INTRUDER]["heading_deg"] == 90.0 and tracks[INTRUDER]["cooperative"]


def test_login_sets_a_short_lived_httponly_secure_samesite_cookie(served: Served) -> None:
    r = served.login("vik")
    cookie = r.headers["set-cookie"].lower()
    for flag in ("httponly", "secure", "samesite=strict", "max-age=1800"):
        assert flag in cookie, cookie
    token = r.json()["access_token"]
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert claims["exp"] - claims["iat"] == 1800 and claims["sub"] == "vik"
    me = served.client.get("/api/auth/me")
    assert me.json() == {"name": "vik", "role": "viewer", "kind": "user"}
    served.client.post("/api/auth/logout")
    served.client.cookies.clear()
    assert served.client.get("/api/auth/me").status_code == 401


def test_a_forged_or_expired_session_is_refused(served: Served) -> None:
    from skyfence.service.auth import Identity, SessionKeys

    who = Identity("ada", "admin", "user")
    forged = SessionKeys(b"k" * 32).issue(who)  # signed with another key
    expired = served.state.keys.issue(who, now=0.0)  # 1970: long expired
    for token in (forged, expired, "not-a-jwt"):
        served.client.cookies.clear()
        served.client.cookies.set("skyfence_session", token)
        assert served.client.get("/api/auth/me").status_code == 401
    served.client.cookies.clear()


def test_wrong_passwords_are_401_then_throttled_even_for_the_right_one(
        served: Served) -> None:
    from skyfence.service.auth import LoginLimiter

    saved, served.state.limiter = served.state.limiter, LoginLimiter(3, 60)
    try:
        codes = [served.client.post("/api/auth/login", data={
            "username": "olga", "password": "wrong-password"}).status_code for _ in range(3)]
        assert codes == [401, 401, 401]
        r = served.client.post("/api/auth/login",
                               data={"username": "olga", "password": "operator-pass-1"})
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    finally:
        served.state.limiter = saved
    audit = served.client.get("/api/audit", headers=served.as_role("admin")).json()
    assert sum(a["kind"] == "login_failed" and a["subject"] == "olga" for a in audit) >= 3


def test_viewer_cannot_acknowledge_operator_can_and_the_audit_names_them(
        served: Served) -> None:
    iid = incident_of(served)["id"]
    r = served.client.post(f"/api/incidents/{iid}/ack", headers=served.as_role("viewer"))
    assert r.status_code == 403
    served.login("olga")
    r = served.client.post(f"/api/incidents/{iid}/ack", json={"note": "on it"})
    assert r.status_code == 200 and r.json()["state"] == "acknowledged"
    again = served.client.post(f"/api/incidents/{iid}/ack")
    assert again.status_code == 409 and "acknowledged by olga" in again.json()["detail"]
    assert served.client.post(f"/api/incidents/{iid}/steps/1").status_code == 200
    assert served.client.post(f"/api/incidents/{iid}/notes",
                              json={"text": "F-35s scrambled"}).status_code == 200
    served.client.cookies.clear()
    detail = served.client.get(f"/api/incidents/{iid}", headers=served.as_role("viewer")).json()
    assert detail["incident"]["state"] == "acknowledged"
    audit = [(a["kind"], a["operator"], a["note"]) for a in detail["audit"]]
    assert ("acknowledged", "olga", "on it") in audit
    assert ("note", "olga", "F-35s scrambled") in audit
    assert any(k == "step_done" and op == "olga" for k, op, _ in audit)
    assert detail["steps"][0]["done_by"] == "olga"
    # a machine's change is recorded under its token's name
    r = served.client.post(f"/api/incidents/{iid}/close", headers=served.as_role("operator"))
    assert r.status_code == 200
    detail = served.client.get(f"/api/incidents/{iid}", headers=served.as_role("viewer")).json()
    assert detail["audit"][-1]["operator"] == "token:t-operator"
    assert served.client.post(f"/api/incidents/{iid}/reopen",
                              headers=served.as_role("operator")).status_code == 200


def test_the_incident_track_is_the_stored_fixes_around_the_entry(served: Served) -> None:
    iid = incident_of(served)["id"]
    tr = served.client.get(f"/api/incidents/{iid}/track",
                           headers=served.as_role("viewer")).json()
    times = [p["t"] for p in tr["points"]]
    assert tr["track"] == INTRUDER and times == sorted(times) and len(times) >= 60
    assert all(p["lat"] == 59.0 and p["altitude_m"] == 9000.0 for p in tr["points"])
    # transponder heights are drawn as reported: the profile's line is the heights
    assert tr["altitude_smoothed"] is False and tr["altitude_scatter_m"] == 0.0
    assert all(p["altitude_line_m"] == 9000.0 for p in tr["points"])


def test_unknown_incidents_are_404_and_malformed_ids_422(served: Served) -> None:
    h = served.as_role("operator")
    assert served.client.get("/api/incidents/0123456789ab", headers=h).status_code == 404
    assert served.client.post("/api/incidents/0123456789ab/ack", headers=h).status_code == 404
    assert served.client.get("/api/incidents/..%2F..%2Fetc", headers=h).status_code in (404, 422)


def test_tokens_authenticate_until_revoked_and_are_stored_hashed(served: Served) -> None:
    import sqlalchemy as sa

    from skyfence.incidents.schema import API_TOKENS

    h = served.as_role("admin")
    made = served.client.post("/api/tokens", json={"name": "radar-bridge", "role": "viewer"},
                              headers=h).json()
    token = made["token"]
    me = served.client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json() == {"name": "radar-bridge", "role": "viewer", "kind": "token"}
    with served.state.store.engine.connect() as conn:
        stored = conn.execute(sa.select(API_TOKENS.c.sha256)
                              .where(API_TOKENS.c.name == "radar-bridge")).scalar_one()
    import hashlib

    assert stored == hashlib.sha256(token.encode()).hexdigest() and token not in stored
    assert served.client.delete("/api/tokens/radar-bridge", headers=h).status_code == 200
    me = served.client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 401
    assert served.client.delete("/api/tokens/radar-bridge", headers=h).status_code == 409


def test_admin_manages_users_and_a_removed_user_loses_access_at_once(served: Served) -> None:
    h = served.as_role("admin")
    r = served.client.post("/api/users", json={"name": "temp", "password": "temporary-pw-1",
                                               "role": "operator"}, headers=h)
    assert r.status_code == 200
    r = served.client.post("/api/auth/login",
                           data={"username": "temp", "password": "temporary-pw-1"})
    assert r.status_code == 200
    assert served.client.delete("/api/users/temp", headers=h).status_code == 200
    assert served.client.get("/api/auth/me").status_code == 401  # the cookie is still valid
    served.client.cookies.clear()
    short = served.client.post("/api/users", json={"name": "x", "password": "short",
                                                   "role": "viewer"}, headers=h)
    assert short.status_code == 409 and "too short" in short.json()["detail"]
    kinds = [(a["kind"], a["actor"], a["subject"]) for a in
             served.client.get("/api/audit", headers=h).json()]
    assert ("user_added", "token:t-admin", "temp") in kinds
    assert ("user_removed", "token:t-admin", "temp") in kinds


def test_dossier_download_refuses_paths_that_leave_the_folder(served: Served) -> None:
    root = served.tmp / "dossiers"
    (root / "2025-09-19-EST-abc").mkdir(parents=True, exist_ok=True)
    (root / "2025-09-19-EST-abc" / "claim.json").write_text('{"ok": true}')
    secret = served.tmp / "secret.txt"
    secret.write_text("top secret")
    os.symlink(secret, root / "link.txt")
    h = served.as_role("viewer")
    ok = served.client.get("/api/dossiers/2025-09-19-EST-abc/claim.json", headers=h)
    assert ok.status_code == 200 and ok.json() == {"ok": True}
    for bad in ("../secret.txt", "..%2Fsecret.txt", "2025-09-19-EST-abc/../../secret.txt",
                "%2E%2E/secret.txt", "link.txt", "/etc/passwd", "..\\secret.txt"):
        r = served.client.get(f"/api/dossiers/{bad}", headers=h)
        assert r.status_code in (400, 404), (bad, r.status_code)
        assert "top secret" not in r.text
    assert served.client.get("/api/dossiers/link.txt", headers=h).status_code == 400
    assert served.client.get("/api/dossiers/..%2Fsecret.txt", headers=h).status_code == 400


def test_first_start_setup_is_one_time(served: Served, tmp_path: Path) -> None:
    served.state.setup_token = "one-time-token-123"
    try:
        assert served.client.get("/api/setup").json() == {"needed": True}
        bad = served.client.post("/api/setup", json={"token": "guess", "name": "root",
                                                     "password": "root-password-1"})
        assert bad.status_code == 403
        good = served.client.post("/api/setup", json={"token": "one-time-token-123",
                                                      "name": "root",
                                                      "password": "root-password-1"})
        assert good.status_code == 200 and good.json()["role"] == "admin"
        again = served.client.post("/api/setup", json={"token": "one-time-token-123",
                                                       "name": "root2",
                                                       "password": "root-password-1"})
        assert again.status_code == 403
    finally:
        served.state.setup_token = None


def test_openapi_schema_is_served_and_lists_the_routes(served: Served) -> None:
    doc = served.client.get("/openapi.json").json()
    assert {"/health", "/api/incidents/{incident_id}/ack", "/api/stream"} <= set(doc["paths"])
    # the stream is an event stream; its refusals are JSON like every other route's
    stream = doc["paths"]["/api/stream"]["get"]["responses"]
    assert set(stream["200"]["content"]) == {"text/event-stream"}
    assert set(stream["401"]["content"]) == {"application/json"}
