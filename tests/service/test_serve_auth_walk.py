"""Every route of `skyfence serve`, walked without credentials and with a role too low:
401 and 403, never data.

The expected role of each route is written here from the issue's rules (viewer reads,
operator acknowledges, closes, marks steps and writes notes, admin manages users and
tokens), not read from the code; the walk first checks that the app has exactly these
routes, so a new route cannot escape the walk.
"""

from __future__ import annotations

import pytest

from service.conftest import Served

pytestmark = pytest.mark.timeout(120)

PUBLIC = {
    ("GET", "/health"), ("POST", "/api/auth/login"), ("POST", "/api/auth/logout"),
    ("GET", "/api/setup"), ("POST", "/api/setup"),
}
NEEDS = {
    ("GET", "/api/auth/me"): "viewer",
    ("GET", "/api/config"): "viewer",
    ("GET", "/api/zones"): "viewer",
    ("GET", "/api/boundaries"): "viewer",
    ("GET", "/api/sensors"): "viewer",
    ("GET", "/api/tracks"): "viewer",
    ("GET", "/api/stream"): "viewer",
    ("GET", "/api/incidents"): "viewer",
    ("GET", "/api/incidents/{incident_id}"): "viewer",
    ("GET", "/api/incidents/{incident_id}/track"): "viewer",
    ("GET", "/api/incidents/{incident_id}/dossier"): "viewer",
    ("GET", "/api/dossiers/{name}"): "viewer",
    ("POST", "/api/incidents/{incident_id}/ack"): "operator",
    ("POST", "/api/incidents/{incident_id}/close"): "operator",
    ("POST", "/api/incidents/{incident_id}/reopen"): "operator",
    ("POST", "/api/incidents/{incident_id}/steps/{n}"): "operator",
    ("POST", "/api/incidents/{incident_id}/notes"): "operator",
    ("GET", "/api/users"): "admin",
    ("POST", "/api/users"): "admin",
    ("DELETE", "/api/users/{name}"): "admin",
    ("GET", "/api/tokens"): "admin",
    ("POST", "/api/tokens"): "admin",
    ("DELETE", "/api/tokens/{name}"): "admin",
    ("GET", "/api/audit"): "admin",
}
LOWER = {"viewer": [], "operator": ["viewer"], "admin": ["viewer", "operator"]}


def api_routes(served: Served) -> set[tuple[str, str]]:
    from fastapi.routing import APIRoute

    out = set()
    for r in served.client.app.routes:
        if isinstance(r, APIRoute) and not r.path.startswith(("/openapi", "/api/docs")):
            out |= {(m, r.path.replace("{name:path}", "{name}")) for m in r.methods}
    return out


def concrete(path: str, incident_id: str) -> str:
    return (path.replace("{incident_id}", incident_id).replace("{n}", "1")
            .replace("{name}", "someone"))


def test_the_walk_covers_every_route(served: Served) -> None:
    assert api_routes(served) == PUBLIC | set(NEEDS)


def test_no_credentials_get_401_on_every_route_but_the_public_ones(served: Served) -> None:
    iid = served.client.get("/api/incidents", params={"all": "true"},
                            headers=served.as_role("admin")).json()["incidents"][0]["id"]
    served.client.cookies.clear()
    for (method, path) in sorted(NEEDS):
        r = served.client.request(method, concrete(path, iid), json={})
        assert r.status_code == 401, (method, path, r.status_code)
        assert r.headers.get("www-authenticate") == "Bearer"
        # a wrong scheme or an unknown token is no better
        for header in ("Basic YWRhOmFkbWlu", "Bearer sft_not-a-real-token", "Bearer "):
            r = served.client.request(method, concrete(path, iid), json={},
                                      headers={"Authorization": header})
            assert r.status_code == 401, (method, path, header, r.status_code)


def test_a_role_too_low_gets_403_on_every_route_above_it(served: Served) -> None:
    iid = served.client.get("/api/incidents", params={"all": "true"},
                            headers=served.as_role("admin")).json()["incidents"][0]["id"]
    state_before = served.client.get(f"/api/incidents/{iid}",
                                     headers=served.as_role("admin")).json()["audit"]
    checked = 0
    for (method, path), needed in sorted(NEEDS.items()):
        for role in LOWER[needed]:
            r = served.client.request(method, concrete(path, iid), json={},
                                      headers=served.as_role(role))
            assert r.status_code == 403, (method, path, role, r.status_code)
            checked += 1
            # and with a browser session of a user of that role
            served.login({"viewer": "vik", "operator": "olga"}[role])
            r = served.client.request(method, concrete(path, iid), json={})
            served.client.cookies.clear()
            assert r.status_code == 403, (method, path, role, "session", r.status_code)
    assert checked == 5 * 1 + 7 * 2  # operator routes x viewer, admin routes x 2 roles
    # nothing the refused requests asked for happened
    after = served.client.get(f"/api/incidents/{iid}", headers=served.as_role("admin")).json()
    assert after["audit"] == state_before
