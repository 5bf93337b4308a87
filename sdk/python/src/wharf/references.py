"""Names and references checked with the registry's own rules before anything is sent
(src/common/validation/names.ts, src/common/validation/reference.ts), so a typo fails at once with
the reason, not after a gigabyte of hashing."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from .errors import InputError

_RULES: dict[str, tuple[re.Pattern[str], int, str]] = {
    "project": (
        re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"),
        63,
        'lowercase letters, digits and "-", starting and ending with a letter or digit (a DNS-1123 label)',
    ),
    "model": (
        re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$"),
        128,
        'lowercase letters and digits, separated by single ".", "_" or "-"',
    ),
    "tag": (
        re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$"),
        128,
        'letters, digits, "_", "." and "-", not starting with "." or "-" (a Docker tag)',
    ),
}
_NUMBER = re.compile(r"^[1-9][0-9]{0,9}$")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def name_problem(kind: str, value: str) -> str | None:
    """Why ``value`` is not a valid ``kind`` name (project, model, tag), or None."""
    pattern, longest, rule = _RULES[kind]
    if not value:
        return f"a {kind} name is required"
    if len(value) > longest:
        return f"a {kind} name has at most {longest} characters"
    if not pattern.match(value):
        return f"a {kind} name has {rule}"
    return None


def check_name(kind: str, value: str) -> str:
    problem = name_problem(kind, value)
    if problem:
        raise InputError(f'"{value}": {problem}')
    return value


def file_path_problem(value: str) -> str | None:
    """Why ``value`` cannot be a file path inside a version (the registry's rule), or None."""
    if not value:
        return "a file path is required"
    if len(value.encode("utf-8", "surrogatepass")) > 1024:
        return "a file path has at most 1024 bytes"
    if _CONTROL.search(value):
        return "a file path cannot contain NUL or other control characters"
    if "\\" in value:
        return 'a file path uses "/" as separator, never "\\"'
    if value.startswith("/"):
        return 'a file path is relative: it cannot start with "/"'
    if re.match(r"^[A-Za-z]:", value):
        return "a file path cannot start with a drive letter"
    if unicodedata.normalize("NFC", value) != value:
        return "a file path must be in Unicode normal form C"
    for segment in value.split("/"):
        if segment == "":
            return 'a file path has no empty segments (no "//" and no trailing "/")'
        if segment in (".", ".."):
            return 'a file path cannot contain "." or ".." segments'
        if len(segment.encode("utf-8", "surrogatepass")) > 255:
            return "each segment of a file path has at most 255 bytes"
    return None


@dataclass(frozen=True)
class ModelName:
    project: str
    model: str

    def __str__(self) -> str:
        return f"{self.project}/{self.model}"


@dataclass(frozen=True)
class Reference:
    """``project/model`` plus a selector: ``:tag``, ``@3`` or ``@sha256:…``."""

    project: str
    model: str
    #: The selector as the API takes it: ``:prod``, ``@3``, ``@sha256:…``.
    selector: str

    def __str__(self) -> str:
        return f"{self.project}/{self.model}{self.selector}"


def parse_model_name(value: str) -> ModelName:
    """``project/model``."""
    parts = value.split("/")
    if len(parts) != 2:
        raise InputError(f'"{value}" is not <project>/<model>')
    return ModelName(check_name("project", parts[0]), check_name("model", parts[1]))


def parse_reference(value: str, default_tag: str | None = "latest") -> Reference:
    """``project/model:tag``, ``project/model@3`` or ``project/model@sha256:<digest>``; a bare
    ``project/model`` means ``:latest`` (the newest ready version), as in Docker."""
    if "@" in value:
        name, _, rest = value.partition("@")
        if _NUMBER.match(rest) and int(rest) <= 2_147_483_647:
            selector = f"@{rest}"
        elif _DIGEST.match(rest):
            selector = f"@{rest}"
        else:
            raise InputError(
                f'"{value}": after "@" comes a version number (@3) or a manifest digest (@sha256:<64 lowercase hex>)'
            )
    elif ":" in value:
        name, _, tag = value.rpartition(":")
        check_name("tag", tag)
        selector = f":{tag}"
    elif default_tag is not None:
        name, selector = value, f":{default_tag}"
    else:
        raise InputError(f'"{value}": a reference ends in ":tag", "@number" or "@sha256:<digest>"')
    model_name = parse_model_name(name)
    return Reference(model_name.project, model_name.model, selector)
