"""Download a version into a directory, the way ``wharf pull`` does (src/client/transfer/pull.ts).

Every file in ranged GETs run in parallel, written at their offsets into ``<file>.wharf-partial``,
verified against the manifest's sha256, flushed, then renamed into place. A file already there
with the right digest is kept; a file that fails its digest never replaces anything.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import httpx

from .._paging import file_segments
from .._registry_api import Versions
from ..errors import IntegrityError, UnavailableError, WharfError
from ..types import File
from .local_files import sha256_of
from .progress import ProgressFactory, ProgressSink

if TYPE_CHECKING:
    from ..client import Client

PARTIAL_SUFFIX = ".wharf-partial"
CHUNK_ATTEMPTS = 4
#: Bytes the verifier reads back at a time.
READ_BACK = 4 * 1024 * 1024


@dataclass
class PulledFile:
    path: str
    size: int
    sha256: str
    #: True when the file was already in place with the right digest and nothing was downloaded.
    skipped: bool


@dataclass
class PullResult:
    project: str
    model: str
    version: int
    manifest_digest: str | None
    destination: Path
    files: list[PulledFile] = field(default_factory=list)
    bytes_received: int = 0


@dataclass
class _Chunk:
    file: File
    fd: int
    start: int
    #: Inclusive, as in a Range header.
    end: int
    done: bool = False


class _Verifier:
    """Hashes each file while the rest of it downloads: one thread follows the chunks in file
    order, reading each back (from the page cache) as soon as it is written. Verification then
    ends with the download instead of costing a second pass after it."""

    def __init__(self, chunks: list[_Chunk], files: list[File], sink: ProgressSink) -> None:
        self.chunks = chunks
        self.files = files
        self.sink = sink
        self.digests: dict[str, str] = {}
        self.failure: BaseException | None = None
        self.stopped = False
        self.changed = threading.Condition()
        self.thread = threading.Thread(target=self._run, name="wharf-verify", daemon=True)
        self.thread.start()

    def chunk_done(self, chunk: _Chunk) -> None:
        with self.changed:
            chunk.done = True
            self.changed.notify()

    def finish(self) -> dict[str, str]:
        """Waits for the digests of every file (every chunk has been written)."""
        self.thread.join()
        self.sink.close()
        if self.failure:
            raise self.failure
        return self.digests

    def abandon(self) -> None:
        """The download failed: stop without waiting for chunks that will never come."""
        with self.changed:
            self.stopped = True
            self.changed.notify()
        self.thread.join()
        self.sink.close()

    def _run(self) -> None:
        try:
            hashes = {file["path"]: hashlib.sha256() for file in self.files}
            for chunk in self.chunks:
                with self.changed:
                    while not chunk.done and not self.stopped:
                        self.changed.wait()
                    if not chunk.done:
                        return
                for position in range(chunk.start, chunk.end + 1, READ_BACK):
                    data = os.pread(chunk.fd, min(READ_BACK, chunk.end + 1 - position), position)
                    hashes[chunk.file["path"]].update(data)
                    self.sink.update(len(data))
            self.digests = {path: digest.hexdigest() for path, digest in hashes.items()}
        except BaseException as error:  # handed to finish()
            self.failure = error


def _target(destination: Path, path: str) -> Path:
    target = destination.joinpath(*path.split("/")).resolve()
    if not str(target).startswith(str(destination) + os.sep):
        raise IntegrityError(f"refusing to write {path} outside {destination}")
    return target


def pull(
    client: Client, project: str, model: str, selector: str, destination: str | os.PathLike[str], *,
    concurrency: int, chunk_size: int, progress: ProgressFactory,
) -> PullResult:
    # Resolved once, so every file comes from one version even if the tag moves meanwhile.
    resolved = client.resolve(f"{project}/{model}{selector}")
    manifest = client.files.manifest(project, model, resolved["number"])
    root = Path(destination).resolve()
    targets = [(file, _target(root, file["path"])) for file in manifest["items"]]
    needed = [(file, target) for file, target in targets if not _already_there(file, target)]

    fds: dict[str, int] = {}
    received = 0
    try:
        chunks: list[_Chunk] = []
        for file, target in needed:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(f"{target}{PARTIAL_SUFFIX}", os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
            fds[file["path"]] = fd
            os.ftruncate(fd, file["size"])
            chunks.extend(_Chunk(file, fd, start, min(file["size"], start + chunk_size) - 1) for start in range(0, file["size"], chunk_size))
        verifier = _Verifier(chunks, [file for file, _ in needed], progress("verifying", sum(file["size"] for file, _ in needed)))
        try:
            received = _fetch_all(client, Versions.path(project, model, resolved["number"]), chunks, concurrency, progress, verifier)
        except BaseException:
            verifier.abandon()
            raise
        digests = verifier.finish()
        for file, target in needed:
            fd = fds.pop(file["path"])
            os.fsync(fd)
            os.close(fd)
            if digests[file["path"]] != file["sha256"]:
                raise IntegrityError(
                    f"{file['path']}: downloaded bytes have sha256 {digests[file['path']]}, the manifest says {file['sha256']}; nothing was replaced"
                )
            os.replace(f"{target}{PARTIAL_SUFFIX}", target)
    finally:
        for path, fd in fds.items():
            os.close(fd)
        for file, target in needed:
            Path(f"{target}{PARTIAL_SUFFIX}").unlink(missing_ok=True)
    needed_paths = {file["path"] for file, _ in needed}
    return PullResult(
        project=project, model=model, version=resolved["number"], manifest_digest=manifest["manifestDigest"],
        destination=root, files=[PulledFile(f["path"], f["size"], f["sha256"], f["path"] not in needed_paths) for f, _ in targets],
        bytes_received=received,
    )


def _already_there(file: File, target: Path) -> bool:
    try:
        return target.is_file() and target.stat().st_size == file["size"] and sha256_of(target) == file["sha256"]
    except OSError:
        return False


def _fetch_all(client: Client, version_path: str, chunks: list[_Chunk], concurrency: int, progress: ProgressFactory, verifier: _Verifier) -> int:
    downloading = progress("downloading", sum(chunk.end + 1 - chunk.start for chunk in chunks))
    lock = threading.Lock()
    stop = threading.Event()

    def report(n: int) -> None:
        with lock:
            downloading.update(n)

    def fetch(chunk: _Chunk) -> int:
        if stop.is_set():
            return 0
        received = _fetch_chunk(client, version_path, chunk, report)
        verifier.chunk_done(chunk)
        return received

    try:
        with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="wharf-pull") as pool:
            futures = [pool.submit(fetch, chunk) for chunk in chunks]
            try:
                return sum(future.result() for future in futures)
            except BaseException:
                stop.set()
                raise
    finally:
        downloading.close()


def _fetch_chunk(client: Client, version_path: str, chunk: _Chunk, report: Callable[[int], None]) -> int:
    """One ranged GET written at its offset; a body cut short is asked for again from where it stopped."""
    position = chunk.start
    url = f"{version_path}/files/{file_segments(chunk.file['path'])}"
    for attempt in range(1, CHUNK_ATTEMPTS + 1):
        try:
            with client.transport.stream(url, headers={"Range": f"bytes={position}-{chunk.end}"}) as response:
                whole_file = position == 0 and chunk.end == chunk.file["size"] - 1
                if response.status_code != 206 and not (response.status_code == 200 and whole_file):
                    raise IntegrityError(f"{chunk.file['path']}: the registry answered {response.status_code} to a range request")
                for piece in response.iter_raw():
                    if position + len(piece) > chunk.end + 1:
                        raise IntegrityError(f"{chunk.file['path']}: the registry sent more bytes than the range asked for")
                    os.pwrite(chunk.fd, piece, position)
                    position += len(piece)
                    report(len(piece))
            if position != chunk.end + 1:
                raise httpx.ReadError(f"short body: {position - chunk.start} of {chunk.end + 1 - chunk.start} bytes")
            return chunk.end + 1 - chunk.start
        except (httpx.TransportError, httpx.StreamError) as error:
            if attempt >= CHUNK_ATTEMPTS:
                raise UnavailableError(f"{chunk.file['path']}: bytes {position}-{chunk.end} failed {attempt} times: {error}") from error
            time.sleep(0.2 * 2**attempt)
    raise WharfError("unreachable")
