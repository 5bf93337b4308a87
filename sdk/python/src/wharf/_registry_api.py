"""Projects, members, tokens, models, versions, files and upload sessions."""

from __future__ import annotations

import builtins
import re
from typing import Any, Iterator, Mapping, cast

from ._http import Transport
from ._paging import file_segments, paginate, segment
from .types import (
    CreatedToken, File, FileInfo, Manifest, Member, Model, Project, Role, Token, Upload, UploadPart,
    Version, VersionState,
)


def _described(description: str | None, labels: Mapping[str, str] | None) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if description is not None:
        body["description"] = description
    if labels is not None:
        body["labels"] = dict(labels)
    return body


class Projects:
    """Tenants (one Kubernetes namespace each) and their members."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def create(self, name: str, *, description: str | None = None, labels: Mapping[str, str] | None = None) -> Project:
        return cast(Project, self._t.json("POST", "/api/v1/projects", json_body={"name": name, **_described(description, labels)}))

    def list(self, *, prefix: str | None = None, label: list[str] | None = None, sort: str | None = None, limit: int | None = None) -> Iterator[Project]:
        """Every project the token may see; ``label`` filters by ``key=value`` pairs."""
        query = {"prefix": prefix, "label": label, "sort": sort}
        return paginate(lambda cursor: self._t.json("GET", "/api/v1/projects", query={**query, "cursor": cursor}), limit)

    def get(self, name: str) -> Project:
        return cast(Project, self._t.json("GET", f"/api/v1/projects/{segment(name)}"))

    def update(self, name: str, *, description: str | None = None, labels: Mapping[str, str] | None = None) -> Project:
        return cast(Project, self._t.json("PATCH", f"/api/v1/projects/{segment(name)}", json_body=_described(description, labels)))

    def delete(self, name: str) -> None:
        """Deletes an empty project (``ProjectNotEmptyError`` while it holds models)."""
        self._t.json("DELETE", f"/api/v1/projects/{segment(name)}")

    def members(self, project: str) -> builtins.list[Member]:
        return cast(builtins.list[Member], self._t.json("GET", f"/api/v1/projects/{segment(project)}/members")["items"])

    def get_member(self, project: str, principal: str) -> Member:
        return cast(Member, self._t.json("GET", f"/api/v1/projects/{segment(project)}/members/{segment(principal)}"))

    def set_member(self, project: str, principal: str, role: Role) -> Member:
        """Adds a member or changes their role (``viewer``, ``editor``, ``admin``)."""
        path = f"/api/v1/projects/{segment(project)}/members/{segment(principal)}"
        return cast(Member, self._t.json("PUT", path, json_body={"role": role}))

    def remove_member(self, project: str, principal: str) -> None:
        self._t.json("DELETE", f"/api/v1/projects/{segment(project)}/members/{segment(principal)}")


class Tokens:
    """API tokens: random, shown once, scoped, expirable and revocable."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def create(
        self,
        name: str,
        *,
        principal: str | None = None,
        project: str | None = None,
        role: Role | None = None,
        expires_in_days: int | None = None,
        expires_at: str | None = None,
    ) -> CreatedToken:
        """A new token; its secret (``["token"]``) is answered this once and never again."""
        body = {"name": name, "principal": principal, "project": project, "role": role,
                "expiresInDays": expires_in_days, "expiresAt": expires_at}
        return cast(CreatedToken, self._t.json("POST", "/api/v1/tokens", json_body={k: v for k, v in body.items() if v is not None}))

    def list(self, *, principal: str | None = None, all: bool | None = None, limit: int | None = None) -> Iterator[Token]:
        query = {"principal": principal, "all": all}
        return paginate(lambda cursor: self._t.json("GET", "/api/v1/tokens", query={**query, "cursor": cursor}), limit)

    def get(self, token_id: str) -> Token:
        return cast(Token, self._t.json("GET", f"/api/v1/tokens/{segment(token_id)}"))

    def revoke(self, token_id: str) -> None:
        self._t.json("DELETE", f"/api/v1/tokens/{segment(token_id)}")


class Models:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    @staticmethod
    def path(project: str, model: str | None = None) -> str:
        base = f"/api/v1/projects/{segment(project)}/models"
        return base if model is None else f"{base}/{segment(model)}"

    def create(self, project: str, name: str, *, description: str | None = None, labels: Mapping[str, str] | None = None) -> Model:
        return cast(Model, self._t.json("POST", self.path(project), json_body={"name": name, **_described(description, labels)}))

    def list(self, project: str, *, prefix: str | None = None, label: list[str] | None = None, sort: str | None = None, limit: int | None = None) -> Iterator[Model]:
        query = {"prefix": prefix, "label": label, "sort": sort}
        return paginate(lambda cursor: self._t.json("GET", self.path(project), query={**query, "cursor": cursor}), limit)

    def get(self, project: str, model: str) -> Model:
        return cast(Model, self._t.json("GET", self.path(project, model)))

    def update(self, project: str, model: str, *, description: str | None = None, labels: Mapping[str, str] | None = None) -> Model:
        return cast(Model, self._t.json("PATCH", self.path(project, model), json_body=_described(description, labels)))

    def delete(self, project: str, model: str) -> None:
        self._t.json("DELETE", self.path(project, model))


class Versions:
    """Versions: drafts filled with files, then committed (immutable, with a manifest digest)."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    @staticmethod
    def path(project: str, model: str, version: int | str | None = None) -> str:
        base = f"{Models.path(project, model)}/versions"
        return base if version is None else f"{base}/{segment(version)}"

    def create(self, project: str, model: str, *, description: str | None = None, metadata: Mapping[str, Any] | None = None) -> Version:
        """A new draft version, numbered by the registry (1, 2, 3… per model, gapless)."""
        body: dict[str, Any] = {}
        if description is not None:
            body["description"] = description
        if metadata is not None:
            body["metadata"] = dict(metadata)
        return cast(Version, self._t.json("POST", self.path(project, model), json_body=body))

    def list(self, project: str, model: str, *, state: VersionState | None = None, sort: str | None = None, limit: int | None = None) -> Iterator[Version]:
        query = {"state": state, "sort": sort}
        return paginate(lambda cursor: self._t.json("GET", self.path(project, model), query={**query, "cursor": cursor}), limit)

    def get(self, project: str, model: str, version: int) -> Version:
        return cast(Version, self._t.json("GET", self.path(project, model, version)))

    def update(
        self, project: str, model: str, version: int, *, description: str | None = None,
        metadata: Mapping[str, Any] | None = None, state: VersionState | None = None,
    ) -> Version:
        """Changes a draft's description or metadata; ``state`` archives (``archived``), restores
        (``ready``) or abandons a draft (``failed``). Committed metadata is immutable."""
        body: dict[str, Any] = {"description": description, "state": state}
        if metadata is not None:
            body["metadata"] = dict(metadata)
        clean = {k: v for k, v in body.items() if v is not None}
        return cast(Version, self._t.json("PATCH", self.path(project, model, version), json_body=clean))

    def commit(self, project: str, model: str, version: int) -> Version:
        """Makes a draft ready and immutable. Safe to repeat."""
        return cast(Version, self._t.json("POST", f"{self.path(project, model, version)}/commit", idempotent=True))

    def delete(self, project: str, model: str, version: int) -> None:
        self._t.json("DELETE", self.path(project, model, version))


class Files:
    """A version's files: the manifest, metadata of one file, its bytes, small uploads."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def manifest(self, project: str, model: str, ref: int | str) -> Manifest:
        """The file list of a version (``ref``: number, tag or ``sha256:`` digest), sorted by path."""
        return cast(Manifest, self._t.json("GET", f"{Versions.path(project, model, ref)}/files"))

    def list(self, project: str, model: str, ref: int | str) -> list[File]:
        return self.manifest(project, model, ref)["items"]

    def stat(self, project: str, model: str, ref: int | str, path: str) -> FileInfo:
        """Size and sha256 (the ETag) of one file, without its bytes."""
        response = self._t.request("HEAD", f"{Versions.path(project, model, ref)}/files/{file_segments(path)}")
        etag = response.headers.get("etag")
        sha256 = re.sub(r'^(W/)?"|"$', "", etag) if etag else None
        return {"size": int(response.headers.get("content-length", 0)), "sha256": sha256}

    def read(self, project: str, model: str, ref: int | str, path: str) -> bytes:
        """A small file's bytes in memory; big files belong in :meth:`wharf.Client.pull`."""
        return self._t.request("GET", f"{Versions.path(project, model, ref)}/files/{file_segments(path)}").content

    def upload(self, project: str, model: str, version: int, files: Mapping[str, bytes]) -> builtins.list[File]:
        """Small files in one multipart/form-data request (``{path: bytes}``); large ones go
        through :meth:`wharf.Client.push`'s parallel, resumable sessions."""
        form = [("file", (path, data, "application/octet-stream")) for path, data in files.items()]
        return cast(builtins.list[File], self._t.json("POST", f"{Versions.path(project, model, version)}/files", files=form))


class Uploads:
    """Upload sessions, one per file: the building blocks :meth:`wharf.Client.push` uses."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def create(self, project: str, model: str, version: int, *, path: str, size: int, sha256: str) -> Upload:
        """Opens (or finds again) the upload of one file; answers ``state: complete`` at once when
        the project already holds these bytes (dedupe)."""
        body = {"path": path, "size": size, "sha256": sha256}
        return cast(Upload, self._t.json("POST", f"{Versions.path(project, model, version)}/uploads", json_body=body, idempotent=True))

    def get(self, upload_id: str) -> Upload:
        """The session and the parts the registry holds, to resume after a crash."""
        return cast(Upload, self._t.json("GET", f"/api/v1/uploads/{segment(upload_id)}"))

    def put_part(self, upload_id: str, number: int, data: bytes, sha256: str | None = None) -> UploadPart:
        """Sends part ``number`` (1-based); with ``sha256`` the registry checks it as it streams
        and keeps nothing that fails. Safe to repeat."""
        headers = {"Content-Type": "application/octet-stream"}
        if sha256:
            headers["X-Part-Sha256"] = sha256
        path = f"/api/v1/uploads/{segment(upload_id)}/parts/{number}"
        return cast(UploadPart, self._t.json("PUT", path, content=data, headers=headers))

    def complete(self, upload_id: str) -> Upload:
        return cast(Upload, self._t.json("POST", f"/api/v1/uploads/{segment(upload_id)}/complete", idempotent=True))

    def abort(self, upload_id: str) -> None:
        self._t.json("DELETE", f"/api/v1/uploads/{segment(upload_id)}")
