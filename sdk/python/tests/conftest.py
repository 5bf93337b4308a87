from __future__ import annotations

import itertools
import os
import shutil
from pathlib import Path
from typing import Iterator

import pytest

import wharf
from registry import ADMIN_TOKEN, Launch, RegistryProcess

_names = itertools.count(1)


_launch: Launch | None = None


def pytest_collection(session: pytest.Session) -> None:
    """The registry boots while pytest collects (importing mlflow takes as long as the boot)."""
    global _launch
    _launch = Launch()


def pytest_sessionfinish(session: pytest.Session) -> None:
    """A registry no selected test asked for is stopped too."""
    if _launch is not None and _launch.process.poll() is None:
        _launch.process.kill()
        _launch.process.wait()
        shutil.rmtree(_launch.data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def registry() -> Iterator[RegistryProcess]:
    process = (_launch or Launch()).wait()
    yield process
    process.stop()
    shutil.rmtree(process.data_dir, ignore_errors=True)


@pytest.fixture(autouse=True)
def isolated_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the developer's own ``wharf login`` file, environment or push notes."""
    monkeypatch.delenv("WHARF_URL", raising=False)
    monkeypatch.delenv("WHARF_TOKEN", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


@pytest.fixture
def client(registry: RegistryProcess) -> Iterator[wharf.Client]:
    with wharf.Client(registry.url, ADMIN_TOKEN, retries=1) as admin:
        yield admin


def unique(prefix: str) -> str:
    """A fresh name, so tests sharing one registry never collide."""
    return f"{prefix}-{os.getpid()}-{next(_names)}"


@pytest.fixture
def project(client: wharf.Client) -> str:
    name = unique("p")
    client.projects.create(name, description="test project")
    return name


@pytest.fixture
def model(client: wharf.Client, project: str) -> str:
    name = unique("m")
    client.models.create(project, name)
    return f"{project}/{name}"


def write_random(path: Path, size: int, seed: int = 0) -> Path:
    """A file of ``size`` pseudo-random bytes (incompressible, unique per seed)."""
    import random

    path.parent.mkdir(parents=True, exist_ok=True)
    generator = random.Random(seed)
    path.write_bytes(generator.randbytes(size))
    return path
