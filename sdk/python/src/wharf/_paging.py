"""Cursor pagination: list calls follow ``nextCursor`` lazily, one page at a time."""

from __future__ import annotations

from typing import Any, Callable, Iterator, TypeVar
from urllib.parse import quote

T = TypeVar("T")


def segment(value: str | int) -> str:
    """One URL path segment, escaped (names are validated by the registry, not trusted here)."""
    return quote(str(value), safe="")


def file_segments(path: str) -> str:
    """A file path inside a version, each segment escaped, ``/`` kept."""
    return "/".join(quote(part, safe="") for part in path.split("/"))


def paginate(fetch: Callable[[str | None], dict[str, Any]], limit: int | None = None) -> Iterator[Any]:
    """Yields every item of every page; ``fetch(cursor)`` answers one page. ``limit`` caps the
    total number of items yielded (pages are still fetched at the registry's page size)."""
    cursor: str | None = None
    yielded = 0
    while True:
        page = fetch(cursor)
        for item in page.get("items", []):
            if limit is not None and yielded >= limit:
                return
            yield item
            yielded += 1
        cursor = page.get("nextCursor")
        if not cursor:
            return
