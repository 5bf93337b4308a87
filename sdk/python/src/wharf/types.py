"""The registry's JSON answers as typed dictionaries (the DTOs of the OpenAPI document at /docs).

TypedDicts rather than classes: the values are the registry's JSON as it arrived (nothing is
dropped when the registry adds a field), a type checker still knows every key, and they print,
compare and serialise like the dictionaries they are.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

Role = Literal["viewer", "editor", "admin"]
VersionState = Literal["draft", "ready", "failed", "archived"]
UploadState = Literal["open", "completing", "complete", "failed", "aborted", "expired"]


class Project(TypedDict):
    name: str
    description: str
    labels: dict[str, str]
    role: Role
    createdAt: str
    updatedAt: str


class Member(TypedDict):
    principal: str
    kind: str
    role: Role
    createdAt: str
    updatedAt: str


class Token(TypedDict):
    id: str
    name: str
    prefix: str | None
    principal: str
    project: str | None
    role: Role | None
    expiresAt: str | None
    revokedAt: str | None
    lastUsedAt: str | None
    createdAt: str


class CreatedToken(Token):
    #: The secret, shown once.
    token: str


class Model(TypedDict):
    project: str
    name: str
    description: str
    labels: dict[str, str]
    versionCount: int
    createdBy: str
    createdAt: str
    updatedAt: str


class Version(TypedDict):
    project: str
    model: str
    number: int
    state: VersionState
    description: str
    metadata: dict[str, Any]
    manifestDigest: str | None
    createdBy: str
    createdAt: str
    committedAt: str | None


class File(TypedDict):
    path: str
    size: int
    sha256: str


class Manifest(TypedDict):
    project: str
    model: str
    version: int
    state: str
    manifestDigest: str | None
    items: list[File]


class FileInfo(TypedDict):
    """A file's size and sha256 from a HEAD request, without its bytes."""

    size: int
    sha256: str | None


class UploadPart(TypedDict):
    number: int
    size: int
    sha256: str | None
    receivedAt: str


class Upload(TypedDict):
    id: str
    project: str
    model: str | None
    version: int | None
    path: str
    size: int
    sha256: str
    state: UploadState
    deduplicated: bool
    partSize: int
    partCount: int
    parts: list[UploadPart]
    failure: str | None
    createdAt: str
    expiresAt: str


class Tag(TypedDict):
    project: str
    model: str
    name: str
    reference: str
    version: int
    manifestDigest: str | None
    pinned: bool
    pinnedBy: str | None
    pinnedAt: str | None
    automatic: bool
    updatedBy: str
    createdAt: str
    updatedAt: str


# Functional form: "from" is a Python keyword. ``from``/``to`` are the version numbers before and
# after the move (None where there was none).
TagHistoryEntry = TypedDict(
    "TagHistoryEntry",
    {"seq": int, "action": str, "from": "int | None", "to": "int | None", "actor": str, "reason": str, "at": str},
)


class ResolvedVersion(TypedDict):
    reference: str
    project: str
    model: str
    number: int
    state: VersionState
    manifestDigest: str | None
    tag: NotRequired[str]
    pinned: NotRequired[bool]
    endpoint: NotRequired[str]
    key: NotRequired[str | None]
    route: NotRequired[str]


class RouteInput(TypedDict):
    #: A version (``resnet50@3``) or a tag (``resnet50:prod``, followed live) in the project.
    ref: str
    #: Whole percent; the routes of an endpoint sum to 100.
    weight: int


class MirrorInput(TypedDict):
    ref: str
    percent: int


class EndpointRoute(TypedDict):
    ref: str
    weight: int
    model: str
    tag: NotRequired[str]
    version: int
    reference: str
    state: VersionState
    manifestDigest: str | None


class Endpoint(TypedDict):
    project: str
    name: str
    description: str
    routes: list[EndpointRoute]
    mirror: EndpointRoute | None
    stickyHeader: str | None
    generation: int
    createdBy: str
    updatedBy: str
    createdAt: str
    updatedAt: str


class RouteDecision(TypedDict):
    endpoint: str
    key: str | None
    route: EndpointRoute
    mirror: EndpointRoute | None
    generation: int


class WarmupNode(TypedDict):
    node: str
    state: str
    bytesDone: int
    bytesTotal: int


class Warmup(TypedDict):
    id: str
    project: str
    model: str
    ref: str
    selector: dict[str, dict[str, str]]
    maxNodes: int | None
    version: int | None
    manifestDigest: str | None
    nodes: list[WarmupNode]
    createdBy: str
    createdAt: str
