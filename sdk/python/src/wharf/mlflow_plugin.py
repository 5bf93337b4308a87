"""MLflow artifact repository for ``wharf://project/model`` URIs.

Give an MLflow experiment the artifact location ``wharf://vision/resnet50`` and every run's
artifacts (``mlflow.log_artifact(s)``, ``mlflow.<flavor>.log_model``) become Wharf versions of
``vision/resnet50``; training code does not change. MLflow appends a scope to the location
(``<run_id>/artifacts`` for a run, ``models/<model_id>/artifacts`` for a logged model); each
scope's artifacts are one tree of files, and every write makes a new committed version holding
the whole tree so far, tagged ``run-<run_id>`` or ``model-<model_id>``. Files already in the
project are attached by digest, so carrying the tree into the next version sends no bytes.
Loading reads the tagged version, each file verified against its sha256.

The registry URL and token come from ``WHARF_URL`` / ``WHARF_TOKEN`` or the file ``wharf login``
writes. Limits: see docs/python.md ("MLflow bridge").
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

from mlflow.entities import FileInfo
from mlflow.store.artifact.artifact_repo import ArtifactRepository

from ._paging import file_segments
from .client import Client
from .errors import InputError, IntegrityError, TagNotFoundError
from .references import check_name
from .transfer.local_files import list_local_files
from .transfer.progress import progress_factory
from .transfer.push import fill_draft, hash_files
from .types import File

_RUN_SCOPE = re.compile(r"^([0-9a-f]{32})/artifacts$")
_MODEL_SCOPE = re.compile(r"^models/(m-[0-9a-f]{32})/artifacts$")


def scope_tag(scope: str) -> str:
    """The Wharf tag that follows a scope's newest snapshot: readable for runs and logged models."""
    for pattern, prefix in ((_RUN_SCOPE, "run-"), (_MODEL_SCOPE, "model-")):
        match = pattern.match(scope)
        if match:
            return prefix + match.group(1)
    return "mlflow-" + hashlib.sha256(scope.encode("utf-8")).hexdigest()[:32]


def parse_wharf_uri(uri: str) -> tuple[str, str, str]:
    """``wharf://project/model[/scope…]`` → (project, model, scope)."""
    parts = urlsplit(uri)
    segments = [segment for segment in parts.path.split("/") if segment]
    if parts.scheme != "wharf" or not parts.netloc or not segments:
        raise InputError(f'"{uri}" is not wharf://<project>/<model>[/<path>]')
    return check_name("project", parts.netloc), check_name("model", segments[0]), "/".join(segments[1:])


class WharfArtifactRepository(ArtifactRepository):
    """MLflow's view of one scope of a Wharf model: a tree of files, written as versions."""

    def __init__(self, artifact_uri: str, tracking_uri: str | None = None, registry_uri: str | None = None) -> None:
        super().__init__(artifact_uri, tracking_uri, registry_uri)
        self.project, self.model, self.scope = parse_wharf_uri(artifact_uri)
        self.tag = scope_tag(self.scope)
        self.client = Client()
        self._snapshot: tuple[int, list[File]] | None = None

    # Reading
    def _current_files(self) -> tuple[int | None, list[File]]:
        """The scope's newest snapshot, read once per repository object (and again after each
        write through it), so a download of many files reads them all from one version."""
        if self._snapshot is None:
            try:
                version = self.client.tags.get(self.project, self.model, self.tag)["version"]
            except TagNotFoundError:
                return None, []
            self._snapshot = (version, self.client.files.list(self.project, self.model, version))
        return self._snapshot

    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        prefix = (path or "").strip("/")
        _, files = self._current_files()
        children: dict[str, FileInfo] = {}
        for file in files:
            if prefix and not file["path"].startswith(prefix + "/"):
                continue
            rest = file["path"][len(prefix) + 1 :] if prefix else file["path"]
            head, _, tail = rest.partition("/")
            child = f"{prefix}/{head}" if prefix else head
            children[child] = FileInfo(child, True, None) if tail else FileInfo(child, False, file["size"])
        return [children[name] for name in sorted(children)]

    def _download_file(self, remote_file_path: str, local_path: str) -> None:
        """One file, streamed to a temporary name beside ``local_path``, checked against the
        manifest's sha256, then renamed into place."""
        version, files = self._current_files()
        wanted = next((file for file in files if file["path"] == remote_file_path), None)
        if version is None or wanted is None:
            raise InputError(f"{self.artifact_uri}: no artifact {remote_file_path}")
        url = f"{self.client.versions.path(self.project, self.model, version)}/files/{file_segments(remote_file_path)}"
        directory = os.path.dirname(os.path.abspath(local_path))
        os.makedirs(directory, exist_ok=True)
        handle, partial = tempfile.mkstemp(dir=directory, prefix=".wharf-partial-")
        try:
            digest = hashlib.sha256()
            with os.fdopen(handle, "wb") as out, self.client.transport.stream(url) as response:
                for piece in response.iter_raw():
                    digest.update(piece)
                    out.write(piece)
            if digest.hexdigest() != wanted["sha256"]:
                raise IntegrityError(f"{remote_file_path}: downloaded bytes have sha256 {digest.hexdigest()}, the manifest says {wanted['sha256']}")
            os.replace(partial, local_path)
        finally:
            if os.path.exists(partial):
                os.unlink(partial)

    # Writing
    def log_artifact(self, local_file: str, artifact_path: str | None = None) -> None:
        self._write(local_file, artifact_path)

    def log_artifacts(self, local_dir: str, artifact_path: str | None = None) -> None:
        self._write(local_dir, artifact_path)

    def _write(self, source: str, artifact_path: str | None) -> None:
        """A new version: the scope's tree so far (attached by digest) plus the new files."""
        prefix = (artifact_path or "").strip("/")
        new_files = list_local_files(source)
        for file in new_files:
            file.path = f"{prefix}/{file.path}" if prefix else file.path
        self._snapshot = None  # another process may have written since this object last read
        previous_version, previous = self._current_files()
        replaced = {file.path for file in new_files}
        metadata: dict[str, Any] = {"mlflow": {"artifactUri": self.artifact_uri, "scope": self.scope, "previousVersion": previous_version}}
        with ThreadPoolExecutor(max_workers=4, thread_name_prefix="wharf-mlflow") as pool:
            hash_files(new_files, pool, progress_factory(None))
            draft = self.client.versions.create(self.project, self.model, description=f"MLflow artifacts of {self.scope or 'the experiment'}", metadata=metadata)
            number = draft["number"]
            for kept in previous:
                if kept["path"] not in replaced:
                    self.client.uploads.create(self.project, self.model, number, path=kept["path"], size=kept["size"], sha256=kept["sha256"])
            fill_draft(self.client, self.project, self.model, number, new_files, pool, progress_factory(None))
        self.client.versions.commit(self.project, self.model, number)
        self.client.tags.move(self.project, self.model, self.tag, version=number, reason=f"mlflow: {self.artifact_uri}")
        self._snapshot = None

    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        raise NotImplementedError("Wharf versions are immutable: archive or delete versions with the wharf client instead")


