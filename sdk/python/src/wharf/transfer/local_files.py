"""The files of a push, read from disk: listing, hashing in one pass, change detection."""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..errors import InputError, IntegrityError
from ..references import file_path_problem

MIB = 1024 * 1024
MAX_PARTS = 10_000
MIN_PART_SIZE = 5 * MIB
MAX_PART_SIZE = 5 * 1024 * MIB


@dataclass
class LocalFile:
    #: Path inside the version, ``/``-separated.
    path: str
    #: Where it is on this machine.
    absolute: Path
    size: int = 0
    mtime_ns: int = 0
    sha256: str = ""
    #: The part size ``part_sha256`` was computed for.
    part_size: int = 0
    part_sha256: list[str] = field(default_factory=list)


def plan_part_size(size: int, preferred: int) -> int:
    """The registry's part size for a file (src/uploads/upload-plan.ts): the preferred size,
    raised to fit S3's 10,000 parts (whole MiB), kept within S3's 5 MiB–5 GiB."""
    needed = -(-(-(-size // MAX_PARTS)) // MIB) * MIB
    return min(MAX_PART_SIZE, max(MIN_PART_SIZE, preferred, needed))


def list_local_files(root: str | os.PathLike[str]) -> list[LocalFile]:
    """The regular files under ``root`` (or ``root`` itself), sorted by path; symbolic links,
    devices and names the registry would refuse are refused here, before anything is sent."""
    base = Path(root)
    if not base.exists() and not base.is_symlink():
        raise InputError(f"{root}: no such file or directory")
    if base.is_symlink() or not (base.is_file() or base.is_dir()):
        raise InputError(f"{root}: only regular files and directories can be pushed (not symbolic links or devices)")
    if base.is_file():
        found = [LocalFile(base.name, base.resolve())]
    else:
        found = []
        for directory, subdirectories, names in os.walk(base):
            for name in list(subdirectories):
                if (Path(directory) / name).is_symlink():
                    raise InputError(f"{Path(directory) / name}: only regular files can be pushed (symbolic links are not)")
            for name in names:
                absolute = Path(directory) / name
                if absolute.is_symlink() or not absolute.is_file():
                    raise InputError(f"{absolute}: only regular files can be pushed (symbolic links and devices are not)")
                found.append(LocalFile(absolute.relative_to(base).as_posix(), absolute.resolve()))
        found.sort(key=lambda file: file.path)
        if not found:
            raise InputError(f"{root}: the directory holds no files")
    for file in found:
        problem = file_path_problem(file.path)
        if problem:
            raise InputError(f"{file.absolute}: {problem}")
    return found


def digest_file(file: LocalFile, part_size: int, on_bytes: Callable[[int], object], pool: ThreadPoolExecutor) -> None:
    """Reads a file once and computes both digests a push needs: the whole file's sha256 (here)
    and each part's (on ``pool``, over the same buffers, at the same time). hashlib lets go of
    the GIL on large buffers, so the two hashes run on two cores; hashing both in this thread
    would take the time of two passes, and reading twice would read the file twice."""
    info = file.absolute.stat()
    whole = hashlib.sha256()
    parts: list[Future[str]] = []
    with open(file.absolute, "rb", buffering=0) as handle:
        position = 0
        while position < info.st_size:
            length = min(part_size, info.st_size - position)
            chunk = handle.read(length)
            if len(chunk) != length:
                raise IntegrityError(f"{file.absolute} became shorter while it was read")
            parts.append(pool.submit(lambda data: hashlib.sha256(data).hexdigest(), chunk))
            whole.update(chunk)
            position += length
            on_bytes(length)
            # At most two parts in flight: memory stays a few parts whatever the file's size.
            if len(parts) >= 2:
                parts[-2].result()
    file.size = info.st_size
    file.mtime_ns = info.st_mtime_ns
    file.sha256 = whole.hexdigest()
    file.part_size = part_size
    # An empty file is one empty part.
    file.part_sha256 = [part.result() for part in parts] or [hashlib.sha256(b"").hexdigest()]


def sha256_of(path: Path, on_bytes: Callable[[int], object] = lambda n: None) -> str:
    digest = hashlib.sha256()
    with open(path, "rb", buffering=0) as handle:
        while chunk := handle.read(4 * MIB):
            digest.update(chunk)
            on_bytes(len(chunk))
    return digest.hexdigest()


def changed_while_pushed(file: LocalFile) -> IntegrityError:
    return IntegrityError(f"{file.absolute} changed while it was being pushed; nothing was committed. Push again once it is stable.")


def assert_unchanged(file: LocalFile) -> None:
    """Refuses to go on with a file that changed (size or modification time) since it was hashed."""
    try:
        now = file.absolute.stat()
    except OSError:
        raise changed_while_pushed(file) from None
    if now.st_size != file.size or now.st_mtime_ns != file.mtime_ns:
        raise changed_while_pushed(file)
