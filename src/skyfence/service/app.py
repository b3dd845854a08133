"""The HTTP side of ``skyfence serve``: REST, the event stream, the web page.

::

    GET  /health                         no login: up, and what the pipeline did
    POST /api/auth/login                 OAuth2 password form -> session cookie + JWT
    POST /api/auth/logout | GET /api/auth/me
    GET  /api/setup | POST /api/setup    the one-time creation of the first admin
    GET  /api/config | /api/zones | /api/boundaries | /api/sensors       (viewer)
    GET  /api/tracks                     the current picture                (viewer)
    GET  /api/incidents[?state=&severity=&zone=&track=&all=]               (viewer)
    GET  /api/incidents/{id} | /api/incidents/{id}/track                   (viewer)
    POST /api/incidents/{id}/ack|close|reopen, /steps/{n}, /notes       (operator)
    GET  /api/incidents/{id}/dossier | /api/dossiers/{file}               (viewer)
    GET  /api/stream                     Server-Sent Events: tracks, incidents
    GET|POST /api/users, DELETE /api/users/{name}                         (admin)
    GET|POST /api/tokens, DELETE /api/tokens/{name}                       (admin)
    GET  /api/audit                      account changes and logins         (admin)
    GET  /                               the web page (static files, no login needed)

Every state change goes to an audit with the user who made it: incident changes to
the incident's audit (``skyfence incidents show``), account changes and logins to
``auth_events``. Blocking work (the store, argon2) runs in FastAPI's thread pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import sqlalchemy as sa
from fastapi import Depends, FastAPI, Form, HTTPException, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from skyfence import __version__
from skyfence.errors import SkyfenceError, UsageError
from skyfence.incidents.store import IncidentStore
from skyfence.service import auth, schemas
from skyfence.service.auth import Identity, LoginLimiter, SessionKeys
from skyfence.service.config import ServeConfig
from skyfence.service.hub import Hub
from skyfence.service.limits import NO_NUL, BodyLimit, validation_errors
from skyfence.service.picture import ROW_COLUMNS, Picture
from skyfence.service.security import COOKIE, requires, set_session_cookie
from skyfence.vocab import Severity

__all__ = ["ServeState", "create_app"]

log = logging.getLogger(__name__)

STATIC = Path(__file__).with_name("static")
SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2}
INCIDENT_ID = r"^[0-9a-f]{6,32}$"
KEEPALIVE_S = 15.0
#: the columns of a ``tracks`` message's rows (the snapshot sends whole objects)
TRACK_COLUMNS = ROW_COLUMNS

Viewer = Annotated[Identity, Depends(requires("viewer"))]
Operator = Annotated[Identity, Depends(requires("operator"))]
Admin = Annotated[Identity, Depends(requires("admin"))]
IncidentId = Annotated[str, PathParam(pattern=INCIDENT_ID, description="incident id")]
#: (a name with a NUL character is "no such user/token", auth.py: not a pattern here,
#: which would leave schemathesis no invalid name to send)
Name = Annotated[str, PathParam(max_length=64, description="user or token")]

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": schemas.Error, "description": "not logged in"},
    403: {"model": schemas.Error, "description": "role too low"},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    **ERRORS, 404: {"model": schemas.Error, "description": "no such thing"}}
#: the stream's refusals are JSON, like every other route's (not its own media type)
STREAM_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"description": doc["description"], "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Error"}}}} for code, doc in ERRORS.items()}
CONFLICT: dict[int | str, dict[str, Any]] = {
    **NOT_FOUND, 409: {"model": schemas.Error, "description": "not in a state that allows it"}}


@dataclass
class ServeState:
    """What the routes share: configuration, store, picture, hub, keys."""

    config: ServeConfig
    store: IncidentStore
    zones: list[Any]
    picture: Picture = field(default_factory=Picture)
    hub: Hub = field(default_factory=Hub)
    keys: SessionKeys = field(default_factory=SessionKeys)
    limiter: LoginLimiter = field(default_factory=LoginLimiter)
    #: the watch (None: the API alone, over a store)
    service: Any = None
    #: the one-time token that creates the first admin (None once there is one)
    setup_token: str | None = None
    static_dir: Path = STATIC
    thread: threading.Thread | None = None
    pipeline_error: str | None = None
    servers: int = 0
    ticker: Any = None
    stopped: bool = False
    _boundaries: dict[str, Any] | None = None

    # ------------------------------------------------------------ pipeline
    def on_event(self, event: dict[str, Any]) -> None:
        """A watcher sink: an incident event (committed) to the picture and the hub."""
        self.picture.incident_event(event)
        self.hub.publish_threadsafe("incident", {"event": event})

    def run_pipeline(self) -> None:
        """The watch, in its own thread (ends on :meth:`stop_pipeline`)."""
        try:
            self.service.run(signals=False)
        except SkyfenceError as exc:
            self.pipeline_error = str(exc)
            log.error("pipeline stopped: %s", exc)
        except Exception as exc:  # a bug: keep serving what is stored, and say so
            self.pipeline_error = f"{type(exc).__name__}: {exc}"
            log.exception("pipeline stopped")

    def stop_pipeline(self) -> None:
        """Stop the watch, wait for it, drain its outbox."""
        if self.service is None or self.stopped:
            return
        self.stopped = True
        self.service.stop()
        if self.thread is not None:
            self.thread.join(60)
        self.service.close()


def create_app(state: ServeState) -> FastAPI:
    """The FastAPI application over ``state``."""
    import mimetypes

    mimetypes.add_type("text/javascript", ".mjs")  # module scripts need a JavaScript type

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # the first server of the app starts the pipeline and the ticker, the last one
        # to stop stops them (a test client inside a running server must not replay twice)
        state.servers += 1
        if state.servers == 1:
            state.hub.bind(asyncio.get_running_loop())
            state.ticker = asyncio.create_task(_push_tracks(state))
            if state.service is not None and state.thread is None:
                state.thread = threading.Thread(target=state.run_pipeline, daemon=True,
                                                name="skyfence-pipeline")
                state.thread.start()
        try:
            yield
        finally:
            state.servers -= 1
            if state.servers == 0:
                if state.ticker is not None:
                    state.ticker.cancel()
                state.hub.close()
                await asyncio.to_thread(state.stop_pipeline)

    app = FastAPI(title="skyfence", version=__version__, lifespan=lifespan,
                  description="Airspace incursions: live picture, incidents, dossiers.",
                  docs_url="/api/docs", redoc_url=None)
    app.state.skyfence = state

    @app.exception_handler(UsageError)
    async def usage_error(request: Request, exc: UsageError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=409)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": validation_errors(request, exc.errors())},
                            status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
            # a body that is not JSON at all: a validation error like any other (422, as
            # the schema says), not an undocumented 400
            return JSONResponse({"detail": [{"loc": ["body"], "msg": "not valid JSON",
                                             "type": "json_invalid"}]}, status_code=422)
        return await http_exception_handler(request, exc)

    _public_routes(app, state)
    _incident_routes(app, state)
    _admin_routes(app, state)
    if (state.static_dir / "index.html").is_file():
        app.mount("/", StaticFiles(directory=state.static_dir, html=True), name="web")
    app.add_middleware(BodyLimit)
    return app


# ---------------------------------------------------------------- public, auth
def _public_routes(app: FastAPI, state: ServeState) -> None:
    @app.get("/health", response_model=schemas.Health, tags=["service"])
    def health() -> schemas.Health:
        """Up and running (no login needed)."""
        st = state.service.watcher.stats if state.service is not None else None
        return schemas.Health(
            status="ok", version=__version__,
            pipeline_running=state.thread is not None and state.thread.is_alive(),
            positions=st.positions if st else 0, batches=st.batches if st else 0,
            tracks=len(state.picture), clients=len(state.hub.clients))

    @app.post("/api/auth/login", response_model=schemas.Login, tags=["auth"], responses={
        401: {"model": schemas.Error}, 429: {"model": schemas.Error}})
    def login(request: Request, response: Response,
              username: Annotated[str, Form(max_length=64, pattern=NO_NUL)],
              password: Annotated[str, Form(max_length=1024, pattern=NO_NUL)]) -> Any:
        """OAuth2 password flow: a short-lived session JWT, also set as the cookie."""
        address = request.client.host if request.client else "?"
        wait = state.limiter.retry_after_s(address, username)
        if wait > 0:
            return JSONResponse({"detail": "too many failed logins; try again later"},
                                status_code=429, headers={"Retry-After": str(int(wait) + 1)})
        who = auth.authenticate(state.store, username, password)
        if who is None:
            state.limiter.failed(address, username)
            auth.audit(state.store, username[:64], "login_failed", username[:64],
                       f"from {address}")
            raise HTTPException(401, "wrong user name or password",
                                headers={"WWW-Authenticate": "Bearer"})
        auth.audit(state.store, who.name, "login", who.name, f"from {address}")
        token = state.keys.issue(who)
        set_session_cookie(response, state, token)
        return schemas.Login(access_token=token, token_type="bearer",
                             expires_in=int(state.keys.ttl_s), user=who.name, role=who.role)

    @app.post("/api/auth/logout", response_model=schemas.Ok, tags=["auth"])
    def logout(response: Response) -> schemas.Ok:
        """Forget the session cookie."""
        response.delete_cookie(COOKIE, path="/", secure=state.config.auth.cookie_secure,
                               httponly=True, samesite="strict")
        return schemas.Ok(ok=True, detail="logged out")

    @app.get("/api/auth/me", response_model=schemas.Me, tags=["auth"], responses=ERRORS)
    def me(who: Viewer) -> schemas.Me:
        """Who you are (and, for a session in use, a renewed cookie)."""
        return schemas.Me(name=who.name, role=who.role, kind=who.kind)

    @app.get("/api/setup", response_model=schemas.SetupState, tags=["auth"])
    def setup_state() -> schemas.SetupState:
        """Whether the first admin must still be created."""
        return schemas.SetupState(needed=state.setup_token is not None)

    @app.post("/api/setup", response_model=schemas.Me, tags=["auth"], responses={
        403: {"model": schemas.Error}, 409: {"model": schemas.Error},
        429: {"model": schemas.Error}})
    def setup(request: Request, body: schemas.SetupIn) -> Any:
        """Create the first admin with the one-time token the server printed."""
        import hmac

        address = request.client.host if request.client else "?"
        if state.limiter.retry_after_s(address, "#setup") > 0:
            return JSONResponse({"detail": "too many attempts; try again later"},
                                status_code=429)
        token = state.setup_token
        if token is None:
            raise HTTPException(403, "setup is done: log in")
        if not hmac.compare_digest(body.token.encode(), token.encode()):
            state.limiter.failed(address, "#setup")
            raise HTTPException(403, "wrong setup token")
        auth.add_user(state.store, body.name, body.password, "admin", "setup")
        state.setup_token = None
        return schemas.Me(name=body.name, role="admin", kind="user")

    @app.get("/api/config", response_model=schemas.Config, tags=["map"], responses=ERRORS)
    def config(who: Viewer) -> schemas.Config:
        """Title, push rate and the area of the zones and sensors."""
        return schemas.Config(title=state.config.title, push_hz=state.config.picture.push_hz,
                              trail_s=state.config.picture.trail_s, bbox=_area(state))

    @app.get("/api/zones", tags=["map"], responses=ERRORS)
    def zones(who: Viewer) -> dict[str, Any]:
        """The watched zones as GeoJSON (floor and ceiling in the properties)."""
        return _zones_geojson(state.zones)

    @app.get("/api/boundaries", tags=["map"], responses=ERRORS)
    def boundaries(who: Viewer) -> dict[str, Any]:
        """National boundaries (land + territorial sea) around the watched area, as
        GeoJSON lines, simplified for drawing."""
        if state._boundaries is None:
            state._boundaries = _boundaries_geojson(_area(state))
        return state._boundaries

    @app.get("/api/sensors", tags=["map"], responses=ERRORS)
    def sensors(who: Viewer) -> list[dict[str, Any]]:
        """Receivers and radar sites with their range (km), for range rings."""
        return _sensors(state)

    @app.get("/api/tracks", response_model=schemas.Tracks, tags=["map"], responses=ERRORS)
    def tracks(who: Viewer) -> schemas.Tracks:
        """The current picture: latest fix of every track."""
        now = state.picture.now
        return schemas.Tracks(time=now if now > float("-inf") else None,
                              tracks=state.picture.snapshot())

    @app.get("/api/stream", response_class=EventStream, tags=["map"],
             responses=STREAM_ERRORS)
    async def stream(who: Viewer) -> EventStream:
        """Server-Sent Events: ``snapshot`` (every track with its trail, first),
        ``tracks`` (changed tracks as rows of ``cols``, and gone ones, ``push_hz`` a
        second), ``incident`` (each incident event once stored, and each change an
        operator makes)."""
        client = state.hub.connect(who.operator)
        first = state.hub.message("snapshot", {"tracks": state.picture.snapshot()})
        return EventStream(_frames(state, client, first),
                                   headers={"Cache-Control": "no-cache",
                                            "X-Accel-Buffering": "no"})


class EventStream(StreamingResponse):
    """A ``text/event-stream`` response written from ready-made frames. Not FastAPI's
    ``EventSourceResponse``, which encodes every event it is given for each client:
    here a message is encoded once (:attr:`Message.frame`) and its bytes go to every
    client, everything that waits for a client in one write."""

    media_type = "text/event-stream"


async def _frames(state: ServeState, client: Any, first: Any) -> AsyncIterator[bytes]:
    """A client's event stream: the snapshot, then what the hub sends it, everything
    that waits written at once; a comment line after 15 quiet seconds keeps proxies
    from closing the connection."""
    try:
        yield b"retry: 2000\n" + first.frame
        while True:
            try:
                async with asyncio.timeout(KEEPALIVE_S):
                    msg = await client.get()
            except TimeoutError:
                yield b": keep-alive\n\n"
                continue
            batch = [msg, *client.waiting()]
            frames = [m.frame for m in batch if m is not None]
            if frames:
                yield b"".join(frames)
            if None in batch:  # dropped (too slow) or shutting down
                return
    finally:
        state.hub.disconnect(client)


# -------------------------------------------------------------------- incidents
def _incident_routes(app: FastAPI, state: ServeState) -> None:
    from skyfence.incidents import lifecycle, queries

    def known(incident_id: str) -> str:
        from skyfence.incidents.schema import INCIDENTS

        with state.store.engine.connect() as conn:
            if conn.execute(sa.select(INCIDENTS.c.id)
                            .where(INCIDENTS.c.id == incident_id)).first() is None:
                raise HTTPException(404, f"no incident {incident_id}")
        return incident_id

    @app.get("/api/incidents", response_model=schemas.IncidentList, tags=["incidents"],
             responses=ERRORS)
    def incidents(who: Viewer,
                  state_: Annotated[list[Literal["open", "acknowledged", "closed"]],
                                    Query(alias="state")] = [],  # noqa: B006
                  severity: Annotated[list[Severity],
                                      Query()] = [],  # noqa: B006
                  zone: Annotated[str | None, Query(max_length=256, pattern=NO_NUL)] = None,
                  track: Annotated[str | None, Query(max_length=64, pattern=NO_NUL)] = None,
                  all: bool = False,
                  limit: Annotated[int, Query(ge=1, le=5000)] = 500) -> schemas.IncidentList:
        """Incidents: by default violations not closed; ``all``: every incident.
        Emergencies first, then the most severe, then the newest."""
        recs = queries.incident_records(state.store, every=all, states=state_, zone=zone,
                                        track=track)
        if severity:
            recs = [r for r in recs if r["severity"] in severity]
        emergencies = _emergencies(state, [r["id"] for r in recs])
        rows: list[dict[str, Any]] = [{**r, "emergency": r["id"] in emergencies}
                                      for r in recs]
        rows.sort(key=lambda r: str(r["first_entered_at"] or ""), reverse=True)
        rows.sort(key=lambda r: (not r["emergency"], SEVERITY_RANK.get(str(r["severity"]), 9)))
        return schemas.IncidentList(incidents=rows[:limit], count=len(rows))

    @app.get("/api/incidents/{incident_id}", response_model=schemas.IncidentDetail,
             tags=["incidents"], responses=NOT_FOUND)
    def incident(who: Viewer, incident_id: IncidentId) -> dict[str, Any]:
        """Everything about one incident: entries, steps, audit, alerts, dossier."""
        d = queries.incident_detail(state.store, known(incident_id))
        d["emergency"] = incident_id in _emergencies(state, [incident_id])
        dossier = d.get("dossier")
        d["dossier_url"] = (f"/api/incidents/{incident_id}/dossier"
                            if dossier and dossier.get("state") == "built" else None)
        return d

    @app.get("/api/incidents/{incident_id}/track", response_model=schemas.IncidentTrack,
             tags=["incidents"], responses=NOT_FOUND)
    def incident_track(who: Viewer, incident_id: IncidentId) -> schemas.IncidentTrack:
        """The stored fixes of the incident's track around it (replay and profile)."""
        return _incident_track(state, known(incident_id))

    def change(action: str) -> Any:
        def route(who: Operator, incident_id: IncidentId,
                  body: schemas.StateChange | None = None) -> dict[str, Any]:
            new = lifecycle.change_state(state.store, known(incident_id), action,
                                         who.operator, body.note if body else None)
            return _changed(state, incident_id, action, who)  | {"state": new}

        route.__name__ = f"incident_{action}"
        route.__doc__ = {"ack": "Acknowledge: the operator has taken charge.",
                         "close": "Close the incident.",
                         "reopen": "Open a closed or acknowledged incident again."}[action]
        return route

    for action in ("ack", "close", "reopen"):
        app.post(f"/api/incidents/{{incident_id}}/{action}", tags=["incidents"],
                 responses=CONFLICT)(change(action))

    @app.post("/api/incidents/{incident_id}/steps/{n}", tags=["incidents"],
              responses=CONFLICT)
    def step_done(who: Operator, incident_id: IncidentId,
                  n: Annotated[int, PathParam(ge=1, le=1000)],
                  body: schemas.StateChange | None = None) -> dict[str, Any]:
        """Mark protocol step ``n`` done."""
        text = lifecycle.mark_step_done(state.store, known(incident_id), n, who.operator,
                                        body.note if body else None)
        return _changed(state, incident_id, "step_done", who) | {"step": text}

    @app.post("/api/incidents/{incident_id}/notes", tags=["incidents"], responses=CONFLICT)
    def note(who: Operator, incident_id: IncidentId, body: schemas.Note) -> dict[str, Any]:
        """Add a note to the incident's audit."""
        lifecycle.add_note(state.store, known(incident_id), who.operator, body.text)
        return _changed(state, incident_id, "note", who)

    @app.get("/api/incidents/{incident_id}/dossier", tags=["incidents"],
             response_class=FileResponse, responses={
                 **NOT_FOUND, 200: {"content": {"application/zip": {}}}})
    def dossier(who: Viewer, incident_id: IncidentId) -> FileResponse:
        """The incident's signed dossier (zip), once built."""
        from skyfence.incidents.schema import DOSSIERS

        known(incident_id)
        with state.store.engine.connect() as conn:
            row = conn.execute(sa.select(DOSSIERS.c.path, DOSSIERS.c.state)
                               .where(DOSSIERS.c.incident_id == incident_id)).first()
        if row is None or row.state != "built" or not row.path:
            raise HTTPException(404, f"incident {incident_id} has no dossier (yet)")
        root = _dossier_root(state)
        path = _inside(root, Path(row.path).name + ".zip")
        return FileResponse(path, media_type="application/zip", filename=path.name)

    @app.get("/api/dossiers/{name:path}", tags=["incidents"], response_class=FileResponse,
             responses={**NOT_FOUND, 400: {"model": schemas.Error}})
    def dossier_file(who: Viewer, name: str) -> FileResponse:
        """A file of the dossier folder (a dossier's zip, or one file of a dossier).
        Paths that leave the folder are refused."""
        path = _inside(_dossier_root(state), name)
        return FileResponse(path, filename=path.name)


def _changed(state: ServeState, incident_id: str, action: str, who: Identity
             ) -> dict[str, Any]:
    """After an operator's change: tell every browser; the answer of the route."""
    from skyfence.incidents.queries import incident_records

    rec = incident_records(state.store, every=True, ids=[incident_id])[0]
    state.hub.publish_threadsafe("incident", {"change": action, "by": who.operator,
                                              "incident": rec})
    return {"ok": True, "id": incident_id, "change": action, "by": who.operator}


def _emergencies(state: ServeState, ids: list[str]) -> set[str]:
    """Incidents whose entries saw an emergency squawk (7500/7600/7700), or whose track
    squawks one now."""
    from skyfence.incidents.schema import ENTRIES, INCIDENTS
    from skyfence.vocab import EMERGENCY_SQUAWKS

    now_squawking = state.picture.squawking(EMERGENCY_SQUAWKS)
    out: set[str] = set()
    with state.store.engine.connect() as conn:
        for i in range(0, len(ids), 500):
            part = ids[i:i + 500]
            for inc, track, rec in conn.execute(
                    sa.select(ENTRIES.c.incident_id, INCIDENTS.c.track, ENTRIES.c.record)
                    .join(INCIDENTS, INCIDENTS.c.id == ENTRIES.c.incident_id)
                    .where(ENTRIES.c.incident_id.in_(part))):
                if track in now_squawking or any(
                        sq in reason for reason in json.loads(rec).get("reasons", [])
                        for sq in EMERGENCY_SQUAWKS):
                    out.add(inc)
    return out


def _incident_track(state: ServeState, incident_id: str) -> schemas.IncidentTrack:
    from skyfence.evidence.altitude import altitude_profile
    from skyfence.evidence.observations import PAD_S
    from skyfence.incidents.recorder import read_observations
    from skyfence.incidents.schema import INCIDENTS

    with state.store.engine.connect() as conn:
        r = conn.execute(sa.select(INCIDENTS.c.track, INCIDENTS.c.first_entered_at,
                                   INCIDENTS.c.last_exited_at, INCIDENTS.c.last_inside_at)
                         .where(INCIDENTS.c.id == incident_id)).one()
    end = r.last_exited_at if r.last_exited_at is not None else r.last_inside_at
    obs = read_observations(state.store, r.track, r.first_entered_at - PAD_S, end + PAD_S)

    def num(v: float) -> float | None:
        return None if v != v else round(float(v), 2)

    profile = altitude_profile(obs["time"].to_numpy(np.float64),
                               obs["altitude"].to_numpy(np.float64))
    points = [schemas.TrackPoint(t=round(float(t), 3), lat=round(float(la), 6),
                                 lon=round(float(lo), 6), altitude_m=num(al), speed_ms=num(v),
                                 altitude_line_m=num(line))
              for t, la, lo, al, v, line in zip(obs["time"], obs["lat"], obs["lon"],
                                                obs["altitude"], obs["velocity"],
                                                profile.altitude_m, strict=True)]
    return schemas.IncidentTrack(track=r.track, points=points, entered_at=r.first_entered_at,
                                 exited_at=r.last_exited_at,
                                 altitude_scatter_m=round(profile.scatter_m, 1),
                                 altitude_smoothed=profile.smoothed)


def _dossier_root(state: ServeState) -> Path:
    root = state.config.dossiers.dir
    if not root:
        raise HTTPException(404, "this server builds no dossiers (no dossiers.dir)")
    return Path(root).resolve()


def _inside(root: Path, name: str) -> Path:
    """``root/name`` when it is an existing file inside ``root`` (symbolic links
    resolved); 400 for a path that tries to leave it, 404 when there is no such file."""
    parts = Path(name).parts
    if not name or name.startswith(("/", "\\")) or ".." in parts or "\x00" in name \
            or any("\\" in p or ":" in p for p in parts):
        raise HTTPException(400, "refused: the path must stay inside the dossier folder")
    try:
        path = (root / name).resolve()
        if not path.is_relative_to(root):
            raise HTTPException(400, "refused: the path must stay inside the dossier folder")
        if not path.is_file():
            raise HTTPException(404, "no such dossier file")
    except OSError:  # a name the file system refuses (too long, a component too long)
        raise HTTPException(404, "no such dossier file") from None
    return path


# ------------------------------------------------------------------------ admin
def _admin_routes(app: FastAPI, state: ServeState) -> None:
    @app.get("/api/users", response_model=list[schemas.UserLine], tags=["admin"],
             responses=ERRORS)
    def users(who: Admin) -> Any:
        """Every user (never a password hash)."""
        return auth.list_users(state.store)

    @app.post("/api/users", response_model=schemas.Ok, tags=["admin"], responses=CONFLICT)
    def add_user(who: Admin, body: schemas.NewUser) -> schemas.Ok:
        """Create a user."""
        auth.add_user(state.store, body.name, body.password, body.role, who.operator)
        return schemas.Ok(ok=True, detail=f"user {body.name} added")

    @app.delete("/api/users/{name}", response_model=schemas.Ok, tags=["admin"],
                responses=CONFLICT)
    def remove_user(who: Admin, name: Name) -> schemas.Ok:
        """Remove a user (not the last admin)."""
        auth.remove_user(state.store, name, who.operator)
        return schemas.Ok(ok=True, detail=f"user {name} removed")

    @app.get("/api/tokens", response_model=list[schemas.TokenLine], tags=["admin"],
             responses=ERRORS)
    def tokens(who: Admin) -> Any:
        """Every API token (never the token)."""
        return auth.list_tokens(state.store)

    @app.post("/api/tokens", response_model=schemas.CreatedToken, tags=["admin"],
              responses=CONFLICT)
    def create_token(who: Admin, body: schemas.NewToken) -> schemas.CreatedToken:
        """Create an API token; the answer is the only time it is shown."""
        token = auth.create_token(state.store, body.name, body.role, who.operator)
        return schemas.CreatedToken(name=body.name, role=body.role, token=token)

    @app.delete("/api/tokens/{name}", response_model=schemas.Ok, tags=["admin"],
                responses=CONFLICT)
    def revoke_token(who: Admin, name: Name) -> schemas.Ok:
        """Revoke an API token."""
        auth.revoke_token(state.store, name, who.operator)
        return schemas.Ok(ok=True, detail=f"token {name} revoked")

    @app.get("/api/audit", response_model=list[schemas.AuditLine], tags=["admin"],
             responses=ERRORS)
    def audit(who: Admin, limit: Annotated[int, Query(ge=1, le=10000)] = 200) -> Any:
        """Account changes and logins, newest first."""
        from skyfence.incidents.schema import AUTH_EVENTS

        with state.store.engine.connect() as conn:
            rows = conn.execute(sa.select(AUTH_EVENTS).order_by(AUTH_EVENTS.c.seq.desc())
                                .limit(limit)).all()
        return [{"at": r.at, "actor": r.actor, "kind": r.kind, "subject": r.subject,
                 "note": r.note} for r in rows]


# -------------------------------------------------------------------- helpers
async def _push_tracks(state: ServeState) -> None:
    """Every 1/push_hz s: the tracks that changed, as one message to every client."""
    period = 1.0 / state.config.picture.push_hz
    while True:
        await asyncio.sleep(period)
        try:
            rows, gone = state.picture.tick_rows()
            if (rows or gone) and state.hub.clients:
                state.hub.publish(state.hub.message("tracks", {
                    "time": state.picture.now, "cols": TRACK_COLUMNS,
                    "rows": rows, "gone": gone}))
        except Exception:  # never let the ticker die silently
            log.exception("track push failed")


def _zones_geojson(zones: list[Any]) -> dict[str, Any]:
    import shapely

    feats = []
    for z in zones:
        geom = shapely.simplify(z.geometry, 0.0005, preserve_topology=True)
        feats.append({"type": "Feature", "geometry": shapely.geometry.mapping(geom),
                      "properties": {"name": z.name, "kind": z.kind, "title": z.title or z.name,
                                     "floor_m": z.floor_m, "ceiling_m": z.ceiling_m}})
    return {"type": "FeatureCollection", "features": feats}


def _area(state: ServeState) -> list[float]:
    """Bounding box of the zones and sensors (the whole world when there are none)."""
    boxes = [z.geometry.bounds for z in state.zones]
    for s in _sensors(state):
        d = s["range_km"] / 111.0
        boxes.append((s["lon"] - d, s["lat"] - d, s["lon"] + d, s["lat"] + d))
    if not boxes:
        return [-180.0, -80.0, 180.0, 80.0]
    return [round(min(b[0] for b in boxes), 4), round(min(b[1] for b in boxes), 4),
            round(max(b[2] for b in boxes), 4), round(max(b[3] for b in boxes), 4)]


def _boundaries_geojson(bbox: list[float], margin_deg: float = 5.0) -> dict[str, Any]:
    import shapely

    from skyfence.airspace.national import national_zones
    from skyfence.airspace.prepared import intersects

    x0, y0, x1, y1 = bbox
    area = shapely.box(x0 - margin_deg, y0 - margin_deg, x1 + margin_deg, y1 + margin_deg)
    feats = []
    for code, z in sorted(national_zones().items()):
        if z.part_of is not None or not intersects(z.geometry, area):
            continue
        lines = shapely.simplify(z.geometry.boundary.intersection(area), 0.002)
        if lines.is_empty:
            continue
        feats.append({"type": "Feature", "geometry": shapely.geometry.mapping(lines),
                      "properties": {"code": code, "name": z.name}})
    return {"type": "FeatureCollection", "features": feats}


def _sensors(state: ServeState) -> list[dict[str, Any]]:
    from skyfence.radar import RadarSite

    out: list[dict[str, Any]] = [{"name": s.name, "kind": "receiver", "lat": s.lat,
                                  "lon": s.lon, "range_km": s.range_km}
                                 for s in state.config.sensors]
    for spec in state.config.sources.radar:
        try:
            site = RadarSite.parse(spec)
        except SkyfenceError:
            continue
        if any(abs(float(o["lat"]) - site.lat) < 0.01 and abs(float(o["lon"]) - site.lon) < 0.01
               for o in out):
            continue  # already drawn as a configured sensor (with its own range)
        out.append({"name": f"radar {site.sac}:{site.sic}", "kind": "radar",
                    "lat": site.lat, "lon": site.lon, "range_km": 250.0})
    return out
