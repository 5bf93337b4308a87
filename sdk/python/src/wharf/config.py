"""Where the SDK finds the registry and its token: the same places, in the same order, as the CLI.

Arguments win over ``WHARF_URL`` / ``WHARF_TOKEN``, which win over the file ``wharf login``
writes (``$XDG_CONFIG_HOME/wharf/config.json``, default ``~/.config/wharf/config.json``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Mapping
from urllib.parse import urlsplit

from .errors import ConfigError

DEFAULT_URL = "http://localhost:8080"

Source = Literal["arguments", "environment", "config file", "default"]


@dataclass(frozen=True)
class Settings:
    url: str
    token: str | None
    #: Where the URL and token came from, for error messages.
    source: Source


def config_file(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CONFIG_HOME/wharf/config.json``, or ``~/.config/wharf/config.json``."""
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME") or os.path.join(env.get("HOME") or str(Path.home()), ".config")
    return Path(base) / "wharf" / "config.json"


def push_state_directory(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CACHE_HOME/wharf/pushes``: the CLI's notes of interrupted pushes, shared with it, so a
    push the CLI started can be finished from Python and the other way round."""
    env = os.environ if env is None else env
    base = env.get("XDG_CACHE_HOME") or os.path.join(env.get("HOME") or str(Path.home()), ".cache")
    return Path(base) / "wharf" / "pushes"


def _read_stored(file: Path) -> dict[str, str]:
    try:
        stored = json.loads(file.read_text("utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        raise ConfigError(f"cannot read {file}: {error}") from error
    if not isinstance(stored, dict):
        raise ConfigError(f"{file} does not hold a JSON object")
    return {key: value for key, value in stored.items() if isinstance(value, str)}


def resolve_settings(
    url: str | None = None, token: str | None = None, env: Mapping[str, str] | None = None
) -> Settings:
    """The registry URL and token from arguments, the environment or the CLI's config file."""
    env = os.environ if env is None else env
    stored = _read_stored(config_file(env))
    chosen_url = url or env.get("WHARF_URL") or stored.get("url") or DEFAULT_URL
    chosen_token = token or env.get("WHARF_TOKEN") or stored.get("token")
    source: Source = (
        "arguments"
        if url or token
        else "environment"
        if env.get("WHARF_URL") or env.get("WHARF_TOKEN")
        else "config file"
        if stored.get("url")
        else "default"
    )
    parts = urlsplit(chosen_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f'"{chosen_url}" is not an http(s) URL (from {source})')
    return Settings(url=chosen_url.rstrip("/"), token=chosen_token or None, source=source)
