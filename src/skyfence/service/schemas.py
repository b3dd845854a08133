"""The HTTP API's request and response bodies (they make the OpenAPI schema)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from skyfence.service.limits import plain_text
from skyfence.service.picture import TrackView

__all__ = [
    "AuditLine", "Config", "Error", "Health", "IncidentDetail", "IncidentList",
    "IncidentTrack", "Login", "Me", "NewToken", "NewUser", "Note", "SetupIn", "SetupState",
    "StateChange", "TokenLine", "Tracks", "UserLine",
]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*")
    @classmethod
    def _storable(cls, v: Any) -> Any:
        """Text that every store can keep (no NUL, no unpaired surrogate): a 422, not
        a failed write."""
        if isinstance(v, str) and not plain_text(v):
            raise ValueError("NUL characters and unpaired surrogates are not allowed")
        return v


class Error(BaseModel):
    """What every error response says."""

    detail: Any


class Health(BaseModel):
    """The service is up; what the pipeline has done."""

    status: Literal["ok"]
    version: str
    pipeline_running: bool
    positions: int
    batches: int
    tracks: int
    clients: int


class Login(BaseModel):
    """A session (also set as the HttpOnly cookie)."""

    access_token: str
    token_type: Literal["bearer"]
    expires_in: int
    user: str
    role: str


class Me(BaseModel):
    """Who you are."""

    name: str
    role: str
    kind: Literal["user", "token"]


class SetupState(BaseModel):
    """Whether the first admin still has to be created."""

    needed: bool


class SetupIn(_In):
    """The one-time setup: the token the server printed, and the first admin."""

    token: str = Field(max_length=200)
    name: str = Field(max_length=64)
    password: str = Field(max_length=1024)


class Config(BaseModel):
    """What the page needs to draw itself."""

    title: str
    push_hz: float
    trail_s: float
    #: [min_lon, min_lat, max_lon, max_lat] of the zones and sensors
    bbox: list[float]


class Tracks(BaseModel):
    """The current picture."""

    time: float | None
    tracks: list[TrackView]


class IncidentRow(BaseModel):
    """An incident in the list: the stored record plus what the screen sorts by."""

    model_config = ConfigDict(extra="allow")

    id: str
    state: str
    severity: str
    emergency: bool


class IncidentList(BaseModel):
    """Incidents, pinned emergencies first, then most severe, then newest."""

    incidents: list[dict[str, Any]]
    count: int


class IncidentDetail(BaseModel):
    """Everything about one incident (``skyfence incidents show --format json``)."""

    model_config = ConfigDict(extra="allow")

    incident: dict[str, Any]
    entries: list[dict[str, Any]]
    steps: list[dict[str, Any]]
    audit: list[dict[str, Any]]
    dossier: dict[str, Any] | None
    emergency: bool
    dossier_url: str | None


class TrackPoint(BaseModel):
    """One stored fix of an incident's track."""

    t: float
    lat: float
    lon: float
    altitude_m: float | None
    speed_ms: float | None
    #: the altitude line the profile draws (:mod:`skyfence.evidence.altitude`): the
    #: reported height, or its running median-then-mean when the heights are noisy
    altitude_line_m: float | None = None


class IncidentTrack(BaseModel):
    """The fixes the store holds of an incident's track (window ± 10 min): the replay
    slider and the altitude profile draw these."""

    track: str
    points: list[TrackPoint]
    entered_at: float
    exited_at: float | None
    #: robust scatter (m) of the reported heights around their running median
    altitude_scatter_m: float = 0.0
    #: whether ``altitude_line_m`` is smoothed (the heights scatter, e.g. 3D radar)
    altitude_smoothed: bool = False


class StateChange(_In):
    """Acknowledge, close, reopen or mark a step done, with an optional note."""

    note: str | None = Field(default=None, max_length=4000)


class Note(_In):
    """A note for the incident's audit."""

    text: str = Field(min_length=1, max_length=4000)


class NewUser(_In):
    """A user to create."""

    name: str = Field(max_length=64)
    password: str = Field(max_length=1024)
    role: Literal["viewer", "operator", "admin"]


class UserLine(BaseModel):
    """A user (never the password hash)."""

    name: str
    role: str
    created_at: float
    created_by: str


class NewToken(_In):
    """An API token to create."""

    name: str = Field(max_length=64)
    role: Literal["viewer", "operator", "admin"]


class TokenLine(BaseModel):
    """A token (never the token)."""

    name: str
    role: str
    created_at: float
    created_by: str
    revoked_at: float | None
    last_used_at: float | None


class CreatedToken(BaseModel):
    """A new token: shown this once."""

    name: str
    role: str
    token: str


class AuditLine(BaseModel):
    """One account change or login."""

    at: float
    actor: str
    kind: str
    subject: str
    note: str | None


class Ok(BaseModel):
    """Done."""

    ok: Literal[True]
    detail: str
