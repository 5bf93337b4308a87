"""JSON over HTTP with the registry's conventions: bearer token, problem+json errors, retries.

httpx, not requests: one ``httpx.Client`` is a thread-safe connection pool, so the transfer
threads share keep-alive connections; it has real timeouts by default (requests waits forever
unless told), typed signatures, and streams bodies both ways without extra adapters.
"""

from __future__ import annotations

import email.utils
import json
import random
import time
from typing import Any, Iterator, Mapping
from contextlib import contextmanager

import httpx

from . import __version__
from .errors import UnavailableError, api_error

# Statuses worth another attempt; 429 and 503 promise the request was not processed, so even a
# POST may be sent again after them.
RETRYABLE_STATUS = frozenset({429, 502, 503, 504})
NOT_PROCESSED_STATUS = frozenset({429, 503})

Query = Mapping[str, "str | int | bool | list[str] | None"]


def retry_after_seconds(header: str | None) -> float | None:
    """Seconds or an HTTP date, as RFC 9110 §10.2.3 allows."""
    if not header:
        return None
    header = header.strip()
    if header.isdigit():
        return float(header)
    try:
        when = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def problem_of(response: httpx.Response) -> dict[str, Any]:
    """The problem document of a failed response (with the registry's Retry-After advice, when
    it gave one), or one made up from its status line."""
    problem = _parsed_problem(response)
    retry_after = retry_after_seconds(response.headers.get("retry-after"))
    if retry_after is not None:
        problem.setdefault("retryAfter", retry_after)
    return problem


def _parsed_problem(response: httpx.Response) -> dict[str, Any]:
    try:
        parsed = response.json()
        if isinstance(parsed, dict) and isinstance(parsed.get("code"), str):
            return parsed
    except (ValueError, httpx.ResponseNotRead):
        pass
    status = response.status_code
    text = ""
    try:
        text = response.text[:500]
    except httpx.ResponseNotRead:
        pass
    return {
        "type": "about:blank",
        "title": response.reason_phrase,
        "status": status,
        "detail": text or f"HTTP {status} {response.reason_phrase}",
        "code": "unknown",
    }


def _clean_query(query: Query | None) -> list[tuple[str, str | int | float | bool | None]]:
    pairs: list[tuple[str, str | int | float | bool | None]] = []
    for key, value in (query or {}).items():
        if value is None:
            continue
        for item in value if isinstance(value, list) else [value]:
            pairs.append((key, str(item).lower() if isinstance(item, bool) else str(item)))
    return pairs


class Transport:
    """One pooled httpx client and the retry rules of the TypeScript client (src/client)."""

    def __init__(
        self,
        url: str,
        token: str | None,
        *,
        retries: int = 4,
        backoff: float = 0.25,
        max_backoff: float = 30.0,
        timeout: float = 60.0,
        max_connections: int = 64,
        user_agent: str | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        headers = {"User-Agent": user_agent or f"wharf-python/{__version__}"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
        self.http = httpx.Client(
            base_url=self.url,
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=10.0),
            limits=limits,
            follow_redirects=True,
        )

    def close(self) -> None:
        self.http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Query | None = None,
        json_body: Any = None,
        content: bytes | None = None,
        files: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        """Sends a request with retries and answers the successful (2xx/3xx) response, read."""
        idempotent = method != "POST" if idempotent is None else idempotent
        body = None if json_body is None else json.dumps(json_body).encode("utf-8")
        all_headers = dict(headers or {})
        if body is not None:
            all_headers["Content-Type"] = "application/json"
        for attempt in range(self.retries + 1):
            try:
                response = self.http.request(
                    method, path, params=_clean_query(query), content=body if body is not None else content,
                    files=files, headers=all_headers,
                )
            except httpx.TransportError as error:
                self._after_no_answer(error, attempt, idempotent)
                continue
            if response.status_code < 400:
                return response
            if self._should_retry(response, attempt, idempotent):
                continue
            raise api_error(problem_of(response), method, str(response.request.url))
        raise AssertionError("unreachable")

    def json(self, method: str, path: str, **options: Any) -> Any:
        response = self.request(method, path, **options)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    @contextmanager
    def stream(self, path: str, headers: Mapping[str, str] | None = None) -> Iterator[httpx.Response]:
        """A GET whose body is read by the caller. Retries happen before the first byte only."""
        for attempt in range(self.retries + 1):
            try:
                request = self.http.build_request("GET", path, headers=headers)
                response = self.http.send(request, stream=True)
            except httpx.TransportError as error:
                self._after_no_answer(error, attempt, True)
                continue
            try:
                if response.status_code >= 400:
                    response.read()
                    if self._should_retry(response, attempt, True):
                        continue
                    raise api_error(problem_of(response), "GET", str(request.url))
                yield response
                return
            finally:
                response.close()
        raise AssertionError("unreachable")

    def _should_retry(self, response: httpx.Response, attempt: int, idempotent: bool) -> bool:
        status = response.status_code
        retryable = status in RETRYABLE_STATUS and (idempotent or status in NOT_PROCESSED_STATUS)
        if not retryable or attempt >= self.retries:
            return False
        self._wait(attempt, retry_after_seconds(response.headers.get("retry-after")))
        return True

    def _after_no_answer(self, error: httpx.TransportError, attempt: int, idempotent: bool) -> None:
        """A request that got no answer may go again when it is idempotent, or when the connection
        was refused (so the server surely did nothing); else it is the caller's failure."""
        refused = isinstance(error, httpx.ConnectError)
        if attempt < self.retries and (idempotent or refused):
            self._wait(attempt, None)
            return
        raise UnavailableError(f"cannot reach {self.url}: {error.__class__.__name__}: {error}") from error

    def _wait(self, attempt: int, server_advice: float | None) -> None:
        exponential = self.backoff * 2**attempt
        jittered = exponential / 2 + random.random() * exponential / 2
        time.sleep(min(self.max_backoff, server_advice if server_advice is not None else jittered))
