"""Every error the SDK raises, rooted at :class:`WharfError`.

The registry answers refusals as RFC 9457 ``application/problem+json`` with a stable ``code``.
Each code has its own class here, under a class per HTTP status family, so callers catch as
narrowly as they like::

    try:
        client.tags.move("vision", "resnet50", "prod", version=4)
    except wharf.TagPinnedError:
        ...                        # exactly this refusal
    except wharf.ConflictError:
        ...                        # any 409
    except wharf.ApiError as error:
        print(error.code, error.status, error.message)
"""

from __future__ import annotations

from typing import Any, ClassVar, Mapping


class WharfError(Exception):
    """Anything the SDK raises on purpose."""


class ApiError(WharfError):
    """The registry refused a request; ``code`` is the stable problem code to branch on."""

    code: str
    status: int
    message: str
    problem: Mapping[str, Any]
    method: str
    url: str

    # The family's default code, used when a problem without a known code arrives.
    default_code: ClassVar[str] = "unknown"
    # The stable code a subclass stands for (absent on the family classes).
    code_name: ClassVar[str]

    def __init__(self, problem: Mapping[str, Any], method: str = "", url: str = "") -> None:
        self.problem = problem
        self.code = str(problem.get("code") or self.default_code)
        self.status = int(problem.get("status") or 0)
        detail = problem.get("detail") or problem.get("title") or f"HTTP {self.status}"
        fields = problem.get("errors") or []
        if fields:
            reasons = "; ".join(f"{item.get('field')}: {item.get('message')}" for item in fields)
            detail = f"{detail} ({reasons})"
        self.message = str(detail)
        self.method = method
        self.url = url
        super().__init__(f"{self.message} [{self.code}, HTTP {self.status}]")

    @property
    def field_errors(self) -> list[dict[str, str]]:
        """The per-field reasons of a validation problem (``[{"field", "message"}]``)."""
        return list(self.problem.get("errors") or [])

    @property
    def request_id(self) -> str | None:
        """The id the registry logged this request under; quote it in a bug report."""
        value = self.problem.get("requestId")
        return str(value) if value else None


# Families by HTTP status.
class BadRequestError(ApiError):
    """400: the request is not valid."""


class AuthenticationError(ApiError):
    """401: no token, or a token that is invalid, expired or revoked."""


class PermissionDeniedError(ApiError):
    """403: the token's role does not allow this."""


class NotFoundError(ApiError):
    """404: no such resource (or one the token may not see)."""

    code_name = "not_found"


class MethodNotAllowedError(ApiError):
    """405."""

    code_name = "method_not_allowed"


class ConflictError(ApiError):
    """409: the current state refuses the change (pinned tag, committed version, …)."""


class LengthRequiredError(ApiError):
    """411."""

    code_name = "length_required"


class PayloadTooLargeError(ApiError):
    """413: a body, a file or metadata larger than the registry allows."""

    code_name = "payload_too_large"


class UnsupportedMediaTypeError(ApiError):
    """415."""

    code_name = "unsupported_media_type"


class RangeNotSatisfiableError(ApiError):
    """416."""

    code_name = "range_not_satisfiable"


class RateLimitedError(ApiError):
    """429 after every retry; ``retry_after`` is the registry's advice in seconds."""

    code_name = "rate_limited"

    @property
    def retry_after(self) -> float | None:
        value = self.problem.get("retryAfter")
        return float(value) if isinstance(value, (int, float)) else None


class ServerError(ApiError):
    """5xx after every retry."""


# One class per stable problem code (src/common/errors/error-codes.ts).
class ValidationFailedError(BadRequestError):
    code_name = "validation_failed"
class InvalidNameError(BadRequestError):
    code_name = "invalid_name"
class InvalidCursorError(BadRequestError):
    code_name = "invalid_cursor"
class InvalidReferenceError(BadRequestError):
    code_name = "invalid_reference"
class InvalidPathError(BadRequestError):
    code_name = "invalid_path"
class PartSizeMismatchError(BadRequestError):
    code_name = "part_size_mismatch"
class PartDigestMismatchError(BadRequestError):
    code_name = "part_digest_mismatch"
class FileDigestMismatchError(BadRequestError):
    code_name = "file_digest_mismatch"
class MetadataTooLargeError(PayloadTooLargeError):
    code_name = "metadata_too_large"
class FileTooLargeError(PayloadTooLargeError):
    code_name = "file_too_large"
class UnauthenticatedError(AuthenticationError):
    code_name = "unauthenticated"
class TokenInvalidError(AuthenticationError):
    code_name = "token_invalid"
class TokenExpiredError(AuthenticationError):
    code_name = "token_expired"
class TokenRevokedError(AuthenticationError):
    code_name = "token_revoked"
class ForbiddenError(PermissionDeniedError):
    code_name = "forbidden"
class RouteNotFoundError(NotFoundError):
    code_name = "route_not_found"
class ProjectNotFoundError(NotFoundError):
    code_name = "project_not_found"
class PrincipalNotFoundError(NotFoundError):
    code_name = "principal_not_found"
class MemberNotFoundError(NotFoundError):
    code_name = "member_not_found"
class TokenNotFoundError(NotFoundError):
    code_name = "token_not_found"
class ModelNotFoundError(NotFoundError):
    code_name = "model_not_found"
class VersionNotFoundError(NotFoundError):
    code_name = "version_not_found"
class NodeNotFoundError(NotFoundError):
    code_name = "node_not_found"
class WarmupNotFoundError(NotFoundError):
    code_name = "warmup_not_found"
class TagNotFoundError(NotFoundError):
    code_name = "tag_not_found"
class EndpointNotFoundError(NotFoundError):
    code_name = "endpoint_not_found"
class SubscriptionNotFoundError(NotFoundError):
    code_name = "subscription_not_found"
class UploadNotFoundError(NotFoundError):
    code_name = "upload_not_found"
class FileNotFoundOnRegistryError(NotFoundError):
    code_name = "file_not_found"
class TokenReviewDisabledError(NotFoundError):
    code_name = "tokenreview_disabled"
class SchedulerDisabledError(NotFoundError):
    code_name = "scheduler_disabled"
class ProjectExistsError(ConflictError):
    code_name = "project_exists"
class ModelExistsError(ConflictError):
    code_name = "model_exists"
class ProjectNotEmptyError(ConflictError):
    code_name = "project_not_empty"
class LastAdminError(ConflictError):
    code_name = "last_admin"
class VersionImmutableError(ConflictError):
    code_name = "version_immutable"
class VersionStateConflictError(ConflictError):
    code_name = "version_state_conflict"
class EndpointModelMismatchError(ConflictError):
    code_name = "endpoint_model_mismatch"
class TagPinnedError(ConflictError):
    code_name = "tag_pinned"
class TagAutomaticError(ConflictError):
    code_name = "tag_automatic"
class TagInUseError(ConflictError):
    code_name = "tag_in_use"
class VersionInUseError(ConflictError):
    code_name = "version_in_use"
class ModelInUseError(ConflictError):
    code_name = "model_in_use"
class VersionNotReadyError(ConflictError):
    code_name = "version_not_ready"
class NoRollbackTargetError(ConflictError):
    code_name = "no_rollback_target"
class StorageQuotaExceededError(ConflictError):
    code_name = "storage_quota_exceeded"
class UploadConflictError(ConflictError):
    code_name = "upload_conflict"
class UploadNotOpenError(ConflictError):
    code_name = "upload_not_open"
class UploadIncompleteError(ConflictError):
    code_name = "upload_incomplete"
class UploadsPendingError(ConflictError):
    code_name = "uploads_pending"
class VersionEmptyError(ConflictError):
    code_name = "version_empty"
class StorageUnavailableError(ServerError):
    code_name = "storage_unavailable"
class DatabaseUnavailableError(ServerError):
    code_name = "database_unavailable"
class ServiceUnavailableError(ServerError):
    code_name = "service_unavailable"
class InternalServerError(ServerError):
    code_name = "internal_error"
class FileContentMissingError(ServerError):
    code_name = "file_content_missing"



def _subclasses(root: type[ApiError]) -> list[type[ApiError]]:
    found: list[type[ApiError]] = []
    for child in root.__subclasses__():
        found.append(child)
        found.extend(_subclasses(child))
    return found


_BY_CODE: dict[str, type[ApiError]] = {
    cls.__dict__["code_name"]: cls for cls in _subclasses(ApiError) if "code_name" in cls.__dict__
}
_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    405: MethodNotAllowedError,
    409: ConflictError,
    411: LengthRequiredError,
    413: PayloadTooLargeError,
    415: UnsupportedMediaTypeError,
    416: RangeNotSatisfiableError,
    429: RateLimitedError,
}


def error_class_for(code: str | None, status: int) -> type[ApiError]:
    """The most specific class for a problem: its code's, else its status family's."""
    if code and code in _BY_CODE:
        return _BY_CODE[code]
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    return ServerError if status >= 500 else ApiError


def api_error(problem: Mapping[str, Any], method: str = "", url: str = "") -> ApiError:
    """The exception for a problem document the registry answered."""
    return error_class_for(problem.get("code"), int(problem.get("status") or 0))(problem, method, url)


class UnavailableError(WharfError):
    """The registry could not be reached (or kept failing) after every retry."""


class IntegrityError(WharfError):
    """Bytes failed their check: a local file changed while it was pushed, or a download does not
    match its sha256. Nothing was committed or replaced."""


class InputError(WharfError, ValueError):
    """What the caller asked for cannot be: a missing path, a symbolic link, a bad name or
    reference. Raised before anything is sent."""


class ConfigError(WharfError):
    """The configuration (arguments, WHARF_URL/WHARF_TOKEN, the CLI's config file) is unusable."""
