"""Every API area round-trips through the typed client against the real registry."""

from __future__ import annotations

import pytest

import wharf
from conftest import unique
from registry import RegistryProcess


def ready_version(client: wharf.Client, project: str, model: str, content: bytes, **metadata: object) -> int:
    number = client.versions.create(project, model, description="v", metadata=metadata)["number"]
    client.files.upload(project, model, number, {"weights.bin": content})
    client.versions.commit(project, model, number)
    return number


def test_projects_and_members_round_trip(client: wharf.Client) -> None:
    name = unique("proj")
    created = client.projects.create(name, description="Image models", labels={"team": "vision"})
    assert created["name"] == name and created["labels"] == {"team": "vision"}
    assert client.projects.get(name)["description"] == "Image models"
    assert name in [p["name"] for p in client.projects.list(label=["team=vision"])]
    assert client.projects.update(name, description="Vision")["description"] == "Vision"

    member = client.projects.set_member(name, "alice", "editor")
    assert member["role"] == "editor"
    assert client.projects.get_member(name, "alice")["role"] == "editor"
    assert "alice" in [m["principal"] for m in client.projects.members(name)]
    client.projects.remove_member(name, "alice")
    with pytest.raises(wharf.MemberNotFoundError):
        client.projects.get_member(name, "alice")

    client.projects.delete(name)
    with pytest.raises(wharf.ProjectNotFoundError):
        client.projects.get(name)


def test_tokens_are_created_used_listed_and_revoked(client: wharf.Client, registry: RegistryProcess, project: str) -> None:
    client.projects.set_member(project, "bob", "viewer")
    created = client.tokens.create("bob-laptop", principal="bob", project=project, expires_in_days=1)
    assert created["token"] and created["principal"] == "bob" and created["project"] == project

    with wharf.Client(registry.url, created["token"], retries=0) as bob:
        assert bob.projects.get(project)["role"] == "viewer"
        assert created["id"] in [t["id"] for t in bob.tokens.list()]
        with pytest.raises(wharf.ForbiddenError) as refused:
            bob.models.create(project, "not-allowed")
        assert refused.value.status == 403
        assert client.tokens.get(created["id"])["revokedAt"] is None
        client.tokens.revoke(created["id"])
        with pytest.raises(wharf.TokenRevokedError):
            bob.projects.get(project)
    assert client.tokens.get(created["id"])["revokedAt"] is not None


def test_models_round_trip_with_labels_and_paging(client: wharf.Client, project: str) -> None:
    for index in range(3):
        client.models.create(project, f"net-{index}", description=f"model {index}", labels={"task": "cls" if index else "det"})
    assert [m["name"] for m in client.models.list(project, label=["task=cls"])] == ["net-1", "net-2"]
    assert [m["name"] for m in client.models.list(project, prefix="net-", limit=2)] == ["net-0", "net-1"]
    assert client.models.update(project, "net-0", labels={"task": "seg"})["labels"] == {"task": "seg"}
    assert client.models.get(project, "net-0")["labels"] == {"task": "seg"}
    client.models.delete(project, "net-2")
    with pytest.raises(wharf.ModelNotFoundError):
        client.models.get(project, "net-2")


def test_versions_metadata_and_files_round_trip(client: wharf.Client, model: str) -> None:
    project, name = model.split("/")
    draft = client.versions.create(project, name, description="first run", metadata={"framework": "pytorch"})
    assert draft["state"] == "draft" and draft["number"] == 1
    updated = client.versions.update(project, name, 1, metadata={"framework": "pytorch", "metrics": {"top1": 0.761}})
    assert updated["metadata"]["metrics"] == {"top1": 0.761}

    files = client.files.upload(project, name, 1, {"config.json": b'{"classes": 1000}', "sub/w.bin": b"\x00\x01" * 100})
    assert sorted(f["path"] for f in files) == ["config.json", "sub/w.bin"]
    committed = client.versions.commit(project, name, 1)
    assert committed["state"] == "ready" and committed["manifestDigest"].startswith("sha256:")
    assert client.versions.commit(project, name, 1)["manifestDigest"] == committed["manifestDigest"]

    manifest = client.files.manifest(project, name, 1)
    assert [f["path"] for f in manifest["items"]] == ["config.json", "sub/w.bin"]
    assert client.files.read(project, name, 1, "sub/w.bin") == b"\x00\x01" * 100
    info = client.files.stat(project, name, 1, "config.json")
    assert info["size"] == 17 and info["sha256"] == manifest["items"][0]["sha256"]
    assert client.files.list(project, name, committed["manifestDigest"]) == manifest["items"]

    with pytest.raises(wharf.VersionImmutableError):
        client.versions.update(project, name, 1, metadata={"tampered": True})
    assert client.versions.get(project, name, 1)["metadata"]["framework"] == "pytorch"
    assert client.versions.update(project, name, 1, state="archived")["state"] == "archived"
    assert [v["number"] for v in client.versions.list(project, name, state="archived")] == [1]


def test_tags_history_pin_unpin_rollback_and_resolve(client: wharf.Client, model: str) -> None:
    project, name = model.split("/")
    v1 = ready_version(client, project, name, b"one")
    v2 = ready_version(client, project, name, b"two")
    assert client.tags.move(project, name, "prod", version=v1, reason="first release")["version"] == v1
    assert client.tags.move(project, name, "prod", version=v2, reason="better top1")["version"] == v2
    assert {t["name"] for t in client.tags.list(project, name)} >= {"prod", "latest"}

    pinned = client.tags.pin(project, name, "prod", reason="freeze")
    assert pinned["pinned"] is True
    with pytest.raises(wharf.TagPinnedError) as refused:
        client.tags.move(project, name, "prod", version=v1)
    assert refused.value.code == "tag_pinned" and refused.value.status == 409
    assert client.tags.unpin(project, name, "prod")["pinned"] is False

    rolled = client.tags.rollback(project, name, "prod", reason="latency regression")
    assert rolled["version"] == v1 and rolled["pinned"] is True
    history = list(client.tags.history(project, name, "prod"))
    assert [entry["to"] for entry in history if entry["to"] is not None][:1] == [v1]
    assert any(entry["reason"] == "better top1" and entry["from"] == v1 for entry in history)

    assert client.resolve(f"{model}:prod")["number"] == v1
    assert client.resolve(f"{model}@{v2}")["number"] == v2
    digest = client.versions.get(project, name, v2)["manifestDigest"]
    assert client.resolve(f"{model}@{digest}")["number"] == v2
    assert client.tags.get(project, name, "latest")["version"] == v2
    client.tags.unpin(project, name, "prod")
    client.tags.delete(project, name, "prod", reason="retired")
    with pytest.raises(wharf.TagNotFoundError):
        client.tags.get(project, name, "prod")


def test_endpoints_split_traffic_and_route_sticky_keys(client: wharf.Client, model: str) -> None:
    project, name = model.split("/")
    v1 = ready_version(client, project, name, b"a")
    v2 = ready_version(client, project, name, b"b")
    client.tags.move(project, name, "prod", version=v1)
    endpoint = client.endpoints.put(project, "classifier", {f"{name}:prod": 90, f"{name}@{v2}": 10}, sticky_header="X-User-Id")
    assert [(r["version"], r["weight"]) for r in endpoint["routes"]] == [(v1, 90), (v2, 10)]
    assert endpoint["stickyHeader"] == "X-User-Id"
    assert client.endpoints.get(project, "classifier")["generation"] == endpoint["generation"]
    assert [e["name"] for e in client.endpoints.list(project)] == ["classifier"]

    decisions = {client.endpoints.route(project, "classifier", key=f"user-{i}")["route"]["version"] for i in range(40)}
    assert decisions == {v1, v2}
    first = client.endpoints.route(project, "classifier", key="user-7")["route"]["version"]
    assert all(client.endpoints.route(project, "classifier", key="user-7")["route"]["version"] == first for _ in range(5))
    assert client.resolve(f"{project}/classifier", model=name, key="user-7")["number"] == first

    client.endpoints.delete(project, "classifier")
    with pytest.raises(wharf.EndpointNotFoundError):
        client.endpoints.get(project, "classifier")


def test_warmups_round_trip(client: wharf.Client, model: str) -> None:
    project, name = model.split("/")
    v1 = ready_version(client, project, name, b"warm")
    client.tags.move(project, name, "prod", version=v1)
    warmup = client.warmups.create(project, name, "prod", match_labels={"gpu": "a100"}, max_nodes=2)
    assert warmup["version"] == v1 and warmup["selector"] == {"matchLabels": {"gpu": "a100"}} and warmup["maxNodes"] == 2
    assert client.warmups.get(project, warmup["id"])["ref"] == "prod"
    assert [w["id"] for w in client.warmups.list(project)] == [warmup["id"]]
    client.warmups.delete(project, warmup["id"])
    with pytest.raises(wharf.WarmupNotFoundError):
        client.warmups.get(project, warmup["id"])


def test_health_and_readiness(client: wharf.Client) -> None:
    assert client.health()["status"] == "ok"
    assert client.ready()["status"] == "ready"
