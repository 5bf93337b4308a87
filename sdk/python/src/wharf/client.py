"""The typed client: one object per registry, an attribute per API area."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

from ._http import Transport
from ._registry_api import Files, Models, Projects, Tokens, Uploads, Versions
from ._serving_api import Endpoints, Tags, Warmups
from .config import push_state_directory, resolve_settings
from .errors import InputError
from .references import check_name, parse_model_name, parse_reference
from .transfer import pull as _pull
from .transfer import push as _push
from .transfer.progress import ProgressOption, progress_factory
from .types import ResolvedVersion


class Client:
    """A Wharf registry.

    ``url`` and ``token`` default to ``WHARF_URL`` / ``WHARF_TOKEN``, then to the file
    ``wharf login`` writes, then to ``http://localhost:8080``. Network errors, 5xx and 429 are
    retried ``retries`` times with exponential backoff (honouring ``Retry-After``); a request
    that may have been applied is retried only when it is idempotent. Use it as a context
    manager, or call :meth:`close`, to release its connections.
    """

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        retries: int = 4,
        timeout: float = 60.0,
        user_agent: str | None = None,
    ) -> None:
        settings = resolve_settings(url, token)
        self.url = settings.url
        self.settings = settings
        self.transport = Transport(settings.url, settings.token, retries=retries, timeout=timeout, user_agent=user_agent)
        self.projects = Projects(self.transport)
        self.tokens = Tokens(self.transport)
        self.models = Models(self.transport)
        self.versions = Versions(self.transport)
        self.files = Files(self.transport)
        self.uploads = Uploads(self.transport)
        self.tags = Tags(self.transport)
        self.endpoints = Endpoints(self.transport)
        self.warmups = Warmups(self.transport)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.transport.close()

    def __repr__(self) -> str:
        return f"wharf.Client({self.url!r}, token from {self.settings.source})"

    # References
    def resolve(self, ref: str, *, key: str | None = None, model: str | None = None) -> ResolvedVersion:
        """The concrete version a reference names: ``project/model:tag``, ``project/model@3``,
        ``project/model@sha256:…``; or, with ``model``, an endpoint ``project/endpoint``: the
        version of ``model`` it serves to the sticky ``key``."""
        if ":" not in ref and "@" not in ref and ref.count("/") == 1:
            project, _ = ref.split("/")
            check_name("project", project)
            if model is None:
                raise InputError(f'"{ref}" names an endpoint: give model= (the model it serves), or add a selector (:tag, @3)')
            path = f"{Models.path(project, check_name('model', model))}/resolve"
        else:
            parsed = parse_reference(ref, default_tag=None)
            path = f"{Models.path(parsed.project, parsed.model)}/resolve"
        return self.transport.json("GET", path, query={"ref": ref, "key": key})  # type: ignore[no-any-return]

    # Health
    def health(self) -> dict[str, Any]:
        return self.transport.json("GET", "/healthz")  # type: ignore[no-any-return]

    def ready(self) -> dict[str, Any]:
        return self.transport.json("GET", "/readyz")  # type: ignore[no-any-return]

    # Transfers
    def push(
        self,
        model: str,
        path: str | os.PathLike[str],
        *,
        tag: str | None = None,
        description: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        concurrency: int = 4,
        progress: ProgressOption = None,
        state_directory: str | os.PathLike[str] | None = None,
    ) -> _push.PushResult:
        """Pushes a file or a directory (with its layout) as a new version of ``project/model``:
        parallel parts, each sha256-checked by the registry; files the project already holds are
        not sent; committed, then tagged. Run the same push again after an interruption (a crash,
        Ctrl-C, a lost network): it resumes the same draft and sends only the missing parts."""
        name = parse_model_name(model)
        if tag is not None:
            check_name("tag", tag)
        if concurrency < 1:
            raise InputError(f"concurrency must be at least 1, not {concurrency}")
        return _push.push(
            self, name.project, name.model, path, tag=tag, description=description, metadata=metadata,
            concurrency=concurrency, progress=progress_factory(progress),
            state_directory=Path(state_directory) if state_directory else push_state_directory(),
        )

    def pull(
        self,
        ref: str,
        destination: str | os.PathLike[str],
        *,
        concurrency: int = 8,
        chunk_size: int = 8 * 1024 * 1024,
        progress: ProgressOption = None,
    ) -> _pull.PullResult:
        """Downloads the version ``ref`` names (``project/model:tag``, ``@3``, ``@sha256:…``; a
        bare ``project/model`` is ``:latest``) into ``destination``: ranged parallel GETs, every
        sha256 verified, each file replaced atomically. Files already there are kept."""
        parsed = parse_reference(ref)
        if concurrency < 1 or chunk_size < 1:
            raise InputError("concurrency and chunk_size must be at least 1")
        return _pull.pull(
            self, parsed.project, parsed.model, parsed.selector, destination,
            concurrency=concurrency, chunk_size=chunk_size, progress=progress_factory(progress),
        )
