"""Push a file or a directory as a new version, the way ``wharf push`` does (src/client/transfer/push.ts).

Hash locally, open one upload session per file (a file the project already holds is attached
without sending a byte), send the missing parts in parallel with their sha256, complete,
commit, tag. Interrupted, it leaves the draft and its received parts on the registry plus a
note of the draft in the CLI's own state directory; run again with the same files, it asks the
registry which parts it holds and sends only the rest.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from ..errors import FileDigestMismatchError, NotFoundError, PartDigestMismatchError
from ..types import Upload
from .local_files import LocalFile, assert_unchanged, changed_while_pushed, digest_file, list_local_files, plan_part_size
from .progress import ProgressFactory

if TYPE_CHECKING:
    from ..client import Client

#: The part size the registry is expected to choose (its default UPLOAD_PART_SIZE): part digests
#: are computed for it while the file is hashed. A registry that chose another size gets each
#: part hashed as it is sent instead.
EXPECTED_PART_SIZE = 16 * 1024 * 1024


@dataclass
class PushedFile:
    path: str
    size: int
    sha256: str
    #: True when no byte of it was sent in this run (the registry already held it, or all its parts).
    skipped: bool


@dataclass
class PushResult:
    project: str
    model: str
    version: int
    manifest_digest: str | None
    tag: str | None
    files: list[PushedFile] = field(default_factory=list)
    #: Bytes sent in this run (parts already on the registry are not sent again).
    bytes_sent: int = 0
    #: True when this run finished a draft an interrupted run had started.
    resumed: bool = False

    @property
    def reference(self) -> str:
        return f"{self.project}/{self.model}@{self.version}"


def state_file(state_directory: Path, url: str, project: str, model: str, files: list[LocalFile]) -> Path:
    """Which draft an interrupted push of the same files to the same model was filling. The same
    identity as the CLI's, so either can finish what the other started."""
    identity = json.dumps([url, project, model, [[f.path, f.size, f.sha256] for f in files]], separators=(",", ":"), ensure_ascii=False)
    return state_directory / f"{hashlib.sha256(identity.encode('utf-8')).hexdigest()}.json"


def _read_state(file: Path) -> int | None:
    try:
        version = json.loads(file.read_text("utf-8")).get("version")
        return version if isinstance(version, int) else None
    except (OSError, ValueError, AttributeError):
        return None


def _draft_version(client: Client, project: str, model: str, noted: int | None, description: str | None, metadata: Mapping[str, Any] | None) -> tuple[int, bool, bool]:
    """(version, resumed, already committed): the draft an interrupted push noted, if it is still
    a draft (or was committed by a run that stopped before forgetting it), else a new draft."""
    if noted is not None:
        try:
            previous = client.versions.get(project, model, noted)
        except NotFoundError:
            previous = None
        if previous and previous["state"] in ("draft", "ready"):
            return previous["number"], True, previous["state"] == "ready"
    created = client.versions.create(project, model, description=description, metadata=metadata)
    return created["number"], False, False


def _part_length(upload: Upload, number: int) -> int:
    return min(upload["partSize"], upload["size"] - (number - 1) * upload["partSize"])


def _missing_parts(upload: Upload) -> list[int]:
    held = {part["number"] for part in upload["parts"] if part["size"] == _part_length(upload, part["number"])}
    return [number for number in range(1, upload["partCount"] + 1) if number not in held]


def _read_part(file: LocalFile, upload: Upload, number: int) -> bytes:
    length = _part_length(upload, number)
    with open(file.absolute, "rb", buffering=0) as handle:
        data = os.pread(handle.fileno(), length, (number - 1) * upload["partSize"])
    if len(data) != length:
        raise changed_while_pushed(file)
    return data


def hash_files(files: list[LocalFile], pool: ThreadPoolExecutor, progress: ProgressFactory) -> None:
    """Both digests of every file (whole and per part), one read each."""
    hashing = progress("hashing", sum(file.absolute.stat().st_size for file in files))
    for file in files:
        digest_file(file, plan_part_size(file.absolute.stat().st_size, EXPECTED_PART_SIZE), hashing.update, pool)
    hashing.close()


def fill_draft(
    client: Client, project: str, model: str, version: int, files: list[LocalFile], pool: ThreadPoolExecutor, progress: ProgressFactory
) -> tuple[int, set[str]]:
    """Uploads hashed files into a draft: one session per file (answered complete at once when the
    project holds the bytes, or found again with the parts it has), the missing parts in
    parallel, then each session completed. Answers the bytes sent and the paths that sent any."""
    uploads: dict[str, Upload] = {}
    tasks: list[tuple[LocalFile, Upload, int]] = []
    for file in files:
        upload = client.uploads.create(project, model, version, path=file.path, size=file.size, sha256=file.sha256)
        if upload["state"] == "open":
            upload = client.uploads.get(upload["id"])
        uploads[file.path] = upload
        if upload["state"] == "open":
            tasks.extend((file, upload, number) for number in _missing_parts(upload))
    sent = _send_parts(client, tasks, pool, progress)
    for file in files:
        _complete(client, file, uploads[file.path])
    return sent, {file.path for file, _, _ in tasks}


def push(
    client: Client,
    project: str,
    model: str,
    source: str | os.PathLike[str],
    *,
    tag: str | None,
    description: str | None,
    metadata: Mapping[str, Any] | None,
    concurrency: int,
    progress: ProgressFactory,
    state_directory: Path,
) -> PushResult:
    files = list_local_files(source)
    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="wharf-push") as pool:
        hash_files(files, pool, progress)
        state = state_file(state_directory, client.url, project, model, files)
        version, resumed, committed = _draft_version(client, project, model, _read_state(state), description, metadata)
        state.parent.mkdir(parents=True, exist_ok=True)
        state.write_text(json.dumps({"version": version}))
        sent, sent_paths = (0, set()) if committed else fill_draft(client, project, model, version, files, pool, progress)

    result = client.versions.commit(project, model, version)
    if tag:
        client.tags.move(project, model, tag, version=version, reason="wharf push (python)")
    state.unlink(missing_ok=True)
    return PushResult(
        project=project, model=model, version=version, manifest_digest=result["manifestDigest"], tag=tag,
        files=[PushedFile(f.path, f.size, f.sha256, f.path not in sent_paths) for f in files],
        bytes_sent=sent, resumed=resumed,
    )


def _send_parts(client: Client, tasks: list[tuple[LocalFile, Upload, int]], pool: ThreadPoolExecutor, progress: ProgressFactory) -> int:
    """Sends the missing parts on the pool's threads; the first failure stops the rest."""
    sending = progress("uploading", sum(_part_length(upload, number) for _, upload, number in tasks))
    lock = threading.Lock()
    stop = threading.Event()
    sent = 0

    def send(task: tuple[LocalFile, Upload, int]) -> None:
        nonlocal sent
        file, upload, number = task
        if stop.is_set():
            return
        assert_unchanged(file)
        data = _read_part(file, upload, number)
        known = file.part_sha256[number - 1] if upload["partSize"] == file.part_size else None
        try:
            client.uploads.put_part(upload["id"], number, data, known or hashlib.sha256(data).hexdigest())
        except PartDigestMismatchError:
            # The digest was taken when the file was hashed: bytes that differ now changed since.
            if known:
                raise changed_while_pushed(file) from None
            raise
        with lock:
            sent += len(data)
            sending.update(len(data))

    futures = [pool.submit(send, task) for task in tasks]
    try:
        for future in futures:
            future.result()
    except BaseException:
        stop.set()
        raise
    finally:
        sending.close()
    return sent


def _complete(client: Client, file: LocalFile, upload: Upload) -> None:
    if upload["state"] == "complete":
        return
    assert_unchanged(file)
    try:
        client.uploads.complete(upload["id"])
    except FileDigestMismatchError:
        raise changed_while_pushed(file) from None
