"""Problem codes become the right exception classes; bad inputs are refused with a clear error
and nothing is stored; configuration comes from arguments, the environment or the CLI's file."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
from pathlib import Path

import pytest

import wharf
from conftest import write_random
from registry import ADMIN_TOKEN, REPOSITORY, RegistryProcess


def test_problem_codes_become_their_exception_classes(client: wharf.Client, project: str) -> None:
    with pytest.raises(wharf.ProjectNotFoundError) as missing:
        client.projects.get("no-such-project")
    assert isinstance(missing.value, wharf.NotFoundError)
    assert (missing.value.code, missing.value.status) == ("project_not_found", 404)
    assert "no-such-project" in missing.value.message

    with pytest.raises(wharf.ProjectExistsError) as exists:
        client.projects.create(project)
    assert isinstance(exists.value, wharf.ConflictError) and exists.value.status == 409

    with pytest.raises(wharf.InvalidNameError) as invalid:
        client.models.create(project, "Bad Name")
    assert isinstance(invalid.value, wharf.BadRequestError) and invalid.value.status == 400
    assert invalid.value.field_errors and invalid.value.field_errors[0]["field"] == "name"
    assert [m["name"] for m in client.models.list(project)] == []

    with pytest.raises(wharf.MetadataTooLargeError) as too_large:
        client.models.create(project, "big")
        client.versions.create(project, "big", metadata={"blob": "x" * 70_000})
    assert too_large.value.status == 413
    assert list(client.versions.list(project, "big")) == []


def test_tokens_the_registry_refuses_raise_authentication_errors(registry: RegistryProcess, project: str) -> None:
    with wharf.Client(registry.url, "wharf_000000000000_not-a-real-token", retries=0) as stranger:
        with pytest.raises(wharf.AuthenticationError) as refused:
            stranger.projects.get(project)
    assert refused.value.status == 401 and refused.value.code.startswith(("token_", "unauthenticated"))


def test_every_problem_code_the_registry_defines_has_a_class_of_its_status() -> None:
    source = (REPOSITORY / "src/common/errors/error-codes.ts").read_text()
    codes = re.findall(r"^  (\w+): \{ status: (\d+),", source, re.M)
    assert len(codes) > 50
    for code, status in codes:
        error = wharf.errors.api_error({"code": code, "status": int(status), "detail": "x"})
        assert error.code == code and error.status == int(status)
        assert type(error).__dict__.get("code_name") == code, f"{code} has no class of its own"
        family = wharf.errors.error_class_for(None, int(status))
        assert isinstance(error, family), f"{code}: {type(error).__name__} is not a {family.__name__}"


def test_unknown_codes_fall_back_to_their_status_family() -> None:
    error = wharf.errors.api_error({"code": "brand_new_code", "status": 409, "detail": "new rule"})
    assert type(error) is wharf.ConflictError and error.code == "brand_new_code" and error.message == "new rule"
    assert type(wharf.errors.api_error({"status": 502, "detail": "bad gateway"})) is wharf.ServerError


def test_an_unreachable_registry_raises_unavailable_after_retries() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with wharf.Client(f"http://127.0.0.1:{port}", "t", retries=1) as client:
        with pytest.raises(wharf.UnavailableError, match="cannot reach"):
            client.projects.get("x")


@pytest.mark.parametrize(
    ("model", "reason"),
    [("Vision/resnet", "project name"), ("vision", "not <project>/<model>"), ("vision/Res Net", "model name"), ("a/b/c", "not <project>/<model>")],
)
def test_push_refuses_bad_model_names_before_sending_anything(client: wharf.Client, tmp_path: Path, model: str, reason: str) -> None:
    write_random(tmp_path / "f.bin", 10)
    with pytest.raises(wharf.InputError, match=reason):
        client.push(model, tmp_path)


def test_push_refuses_bad_sources_and_stores_nothing(client: wharf.Client, model: str, tmp_path: Path) -> None:
    project, name = model.split("/")
    source = tmp_path / "model"
    write_random(source / "weights.bin", 100)
    os.symlink(source / "weights.bin", source / "link.bin")
    with pytest.raises(wharf.InputError, match="symbolic links"):
        client.push(model, source)
    with pytest.raises(wharf.InputError, match="no such file"):
        client.push(model, tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(wharf.InputError, match="holds no files"):
        client.push(model, tmp_path / "empty")
    with pytest.raises(wharf.InputError, match="tag name"):
        client.push(model, source / "weights.bin", tag="-bad")
    assert list(client.versions.list(project, name)) == []


def test_pull_refuses_bad_references_and_missing_tags(client: wharf.Client, model: str, tmp_path: Path) -> None:
    with pytest.raises(wharf.InputError, match='after "@"'):
        client.pull(f"{model}@latest", tmp_path / "out")
    with pytest.raises(wharf.TagNotFoundError):
        client.pull(f"{model}:nope", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_settings_come_from_arguments_then_environment_then_the_cli_login_file(
    registry: RegistryProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, project: str
) -> None:
    # The real CLI writes its config file; the SDK reads the same file.
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config")}
    subprocess.run(
        ["node", str(REPOSITORY / "dist/src/cli/main.js"), "login", registry.url, "--token-stdin"],
        input=ADMIN_TOKEN, text=True, env=env, check=True, capture_output=True,
    )
    assert json.loads((tmp_path / "config/wharf/config.json").read_text())["url"] == registry.url
    with wharf.Client() as from_file:
        assert from_file.settings.source == "config file"
        assert from_file.projects.get(project)["name"] == project

    monkeypatch.setenv("WHARF_TOKEN", "wharf_from_environment_not_valid")
    with wharf.Client() as from_env:
        assert from_env.settings.source == "environment"
        with pytest.raises(wharf.AuthenticationError):
            from_env.projects.get(project)
    with wharf.Client(token=ADMIN_TOKEN) as from_arguments:
        assert from_arguments.settings.source == "arguments" and from_arguments.url == registry.url

    monkeypatch.setenv("WHARF_URL", "not a url")
    with pytest.raises(wharf.ConfigError, match="not an http"):
        wharf.Client()
