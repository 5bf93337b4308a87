"""Wharf: the Python SDK of the Wharf model registry.

One-call helpers for scripts and notebooks::

    import wharf
    result = wharf.push("vision/resnet50", "./model", tag="staging", metadata={"top1": 0.761})
    path = wharf.pull("vision/resnet50:staging", "./serving")

and a typed client for everything else::

    with wharf.Client() as client:
        client.tags.rollback("vision", "resnet50", "prod", reason="latency regression")
"""

from __future__ import annotations

__version__ = "0.1.0"

import os
from pathlib import Path
from typing import Any, Mapping

from .client import Client
from .config import Settings, resolve_settings
from .errors import *  # noqa: F401,F403  (every exception class is part of the API)
from .errors import ApiError, ConfigError, InputError, IntegrityError, UnavailableError, WharfError
from .references import Reference, parse_reference
from .transfer.progress import ProgressOption
from .transfer.pull import PullResult
from .transfer.push import PushResult


def push(
    model: str,
    path: str | os.PathLike[str],
    *,
    tag: str | None = None,
    description: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    url: str | None = None,
    token: str | None = None,
    concurrency: int = 4,
    progress: ProgressOption = None,
) -> PushResult:
    """Pushes ``path`` (a file or a directory) as a new version of ``project/model`` and answers
    it (``result.version``, ``result.reference``). See :meth:`Client.push`."""
    with Client(url, token) as client:
        return client.push(model, path, tag=tag, description=description, metadata=metadata, concurrency=concurrency, progress=progress)


def pull(
    ref: str,
    destination: str | os.PathLike[str],
    *,
    url: str | None = None,
    token: str | None = None,
    concurrency: int = 8,
    progress: ProgressOption = None,
) -> Path:
    """Downloads the version ``ref`` names into ``destination`` and answers the directory's
    path. See :meth:`Client.pull`."""
    with Client(url, token) as client:
        return client.pull(ref, destination, concurrency=concurrency, progress=progress).destination


__all__ = [
    "Client", "push", "pull", "Settings", "resolve_settings", "Reference", "parse_reference",
    "PushResult", "PullResult", "WharfError", "ApiError", "ConfigError", "InputError", "IntegrityError",
    "UnavailableError", "__version__",
]
