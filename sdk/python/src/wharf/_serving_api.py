"""Tags (with history, pins and rollbacks), endpoints and their traffic splits, warm-ups."""

from __future__ import annotations

from typing import Any, Iterator, Mapping, Sequence, cast

from ._http import Transport
from ._paging import paginate, segment
from ._registry_api import Models
from .types import Endpoint, MirrorInput, RouteDecision, RouteInput, Tag, TagHistoryEntry, Warmup


def _target(version: int | None, ref: str | None, reason: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"version": version, "ref": ref, "reason": reason}
    return {key: value for key, value in body.items() if value is not None}


class Tags:
    """Docker-style movable names for versions; ``latest`` follows the newest ready version."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    @staticmethod
    def path(project: str, model: str, tag: str | None = None) -> str:
        base = f"{Models.path(project, model)}/tags"
        return base if tag is None else f"{base}/{segment(tag)}"

    def list(self, project: str, model: str, *, limit: int | None = None) -> Iterator[Tag]:
        return paginate(lambda cursor: self._t.json("GET", self.path(project, model), query={"cursor": cursor}), limit)

    def get(self, project: str, model: str, tag: str) -> Tag:
        return cast(Tag, self._t.json("GET", self.path(project, model, tag)))

    def move(self, project: str, model: str, tag: str, *, version: int | None = None, ref: str | None = None, reason: str | None = None) -> Tag:
        """Points (or creates) a tag at a version number, or at a reference (``@sha256:…``,
        ``:other-tag``). A pinned tag refuses with ``TagPinnedError``."""
        return cast(Tag, self._t.json("PUT", self.path(project, model, tag), json_body=_target(version, ref, reason)))

    def delete(self, project: str, model: str, tag: str, *, reason: str | None = None) -> None:
        self._t.json("DELETE", self.path(project, model, tag), query={"reason": reason})

    def pin(self, project: str, model: str, tag: str, *, version: int | None = None, ref: str | None = None, reason: str | None = None) -> Tag:
        """Pins a tag where it is (or moves it first, with ``version``/``ref``): it then refuses moves."""
        body = _target(version, ref, reason)
        return cast(Tag, self._t.json("POST", f"{self.path(project, model, tag)}/pin", json_body=body, idempotent=True))

    def unpin(self, project: str, model: str, tag: str, *, reason: str | None = None) -> Tag:
        body = _target(None, None, reason)
        return cast(Tag, self._t.json("POST", f"{self.path(project, model, tag)}/unpin", json_body=body, idempotent=True))

    def rollback(self, project: str, model: str, tag: str, *, reason: str | None = None) -> Tag:
        """Moves the tag back to its previous version and pins it there."""
        body = _target(None, None, reason)
        return cast(Tag, self._t.json("POST", f"{self.path(project, model, tag)}/rollback", json_body=body))

    def history(self, project: str, model: str, tag: str, *, limit: int | None = None) -> Iterator[TagHistoryEntry]:
        """Every move, newest first: who, when, from which version to which, and why."""
        def fetch(before: str | None) -> dict[str, Any]:
            page = self._t.json("GET", f"{self.path(project, model, tag)}/history", query={"before": before})
            return {"items": page["items"], "nextCursor": page.get("nextBefore")}

        return paginate(fetch, limit)


class Endpoints:
    """Served names with weighted routes between versions (A/B, N-way), a mirror, sticky keys."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    @staticmethod
    def path(project: str, endpoint: str | None = None) -> str:
        base = f"/api/v1/projects/{segment(project)}/endpoints"
        return base if endpoint is None else f"{base}/{segment(endpoint)}"

    def put(
        self,
        project: str,
        endpoint: str,
        routes: Sequence[RouteInput] | Mapping[str, int],
        *,
        mirror: MirrorInput | None = None,
        sticky_header: str | None = None,
        description: str | None = None,
    ) -> Endpoint:
        """Creates or replaces an endpoint. ``routes`` is ``[{"ref", "weight"}]`` or simply
        ``{"resnet50:prod": 90, "resnet50@4": 10}``; whole percents summing to 100."""
        items = [{"ref": ref, "weight": weight} for ref, weight in routes.items()] if isinstance(routes, Mapping) else [dict(route) for route in routes]
        body: dict[str, Any] = {"routes": items, "mirror": mirror, "stickyHeader": sticky_header}
        if description is not None:
            body["description"] = description
        return cast(Endpoint, self._t.json("PUT", self.path(project, endpoint), json_body=body))

    def get(self, project: str, endpoint: str) -> Endpoint:
        return cast(Endpoint, self._t.json("GET", self.path(project, endpoint)))

    def list(self, project: str, *, prefix: str | None = None, limit: int | None = None) -> Iterator[Endpoint]:
        return paginate(lambda cursor: self._t.json("GET", self.path(project), query={"prefix": prefix, "cursor": cursor}), limit)

    def delete(self, project: str, endpoint: str) -> None:
        self._t.json("DELETE", self.path(project, endpoint))

    def route(self, project: str, endpoint: str, key: str | None = None) -> RouteDecision:
        """The version that serves ``key`` (sticky: one key keeps one version while weights hold)."""
        return cast(RouteDecision, self._t.json("GET", f"{self.path(project, endpoint)}/route", query={"key": key}))


class Warmups:
    """Desired state: "this version (or tag) should be ready on nodes matching a selector"."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    @staticmethod
    def path(project: str, warmup_id: str | None = None) -> str:
        base = f"/api/v1/projects/{segment(project)}/warmups"
        return base if warmup_id is None else f"{base}/{segment(warmup_id)}"

    def create(self, project: str, model: str, ref: str | int, *, match_labels: Mapping[str, str] | None = None, max_nodes: int | None = None) -> Warmup:
        """``ref`` is a tag (followed live), a version number or a manifest digest."""
        body: dict[str, Any] = {"model": model, "ref": str(ref), "selector": {"matchLabels": dict(match_labels or {})}}
        if max_nodes is not None:
            body["maxNodes"] = max_nodes
        return cast(Warmup, self._t.json("POST", self.path(project), json_body=body))

    def list(self, project: str) -> list[Warmup]:
        return cast(list[Warmup], self._t.json("GET", self.path(project))["items"])

    def get(self, project: str, warmup_id: str) -> Warmup:
        return cast(Warmup, self._t.json("GET", self.path(project, warmup_id)))

    def delete(self, project: str, warmup_id: str) -> None:
        self._t.json("DELETE", self.path(project, warmup_id))
