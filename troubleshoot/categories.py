"""The closed set of diagnosis categories, each with what it means and what usually helps.

A superset of NoETL's `transient_5xx, auth, rate_limit, bad_request, tool_error, infra, unknown`.
The extra ones earn their place because the fix differs: a `timeout` wants a longer limit or a
faster dependency, `configuration` an edit of the playbook or the hub's setup, `dependency` a
package install, `input_validation` different arguments, `cancelled` nothing at all. Models must
answer with one of these values (the answer schema's enum); anything else is an off-schema answer.
docs/troubleshoot.md has the same table (a test keeps them in step).
"""

from __future__ import annotations

from enum import Enum


class Category(str, Enum):
    """A diagnosis category; `meaning` is what the prompt and the docs say about it."""

    def __new__(cls, value: str, meaning: str) -> Category:
        member = str.__new__(cls, value)
        member._value_ = value
        member.meaning = meaning  # type: ignore[attr-defined]
        return member

    TRANSIENT_5XX = (
        "transient_5xx",
        "A remote service answered with a server error (HTTP 500-599: 500, 502, 503, 504) or said it "
        "is overloaded or unavailable; retrying later usually helps.",
    )
    AUTH = (
        "auth",
        "A remote service refused the credentials (HTTP 401/403, invalid or expired key or token, "
        "permission denied).",
    )
    RATE_LIMIT = (
        "rate_limit",
        "A remote service throttled the caller (HTTP 429, quota or rate limit exceeded); wait and "
        "retry with backoff, or raise the quota.",
    )
    BAD_REQUEST = (
        "bad_request",
        "A remote service rejected the request itself (HTTP 400, 404, 405, 409, 410, 413, 415, 422): "
        "a wrong URL, method, parameter or payload sent by the step.",
    )
    TIMEOUT = (
        "timeout",
        "Something took too long: a step timeout, an HTTP client timeout, the execution's deadline, "
        "or HTTP 408.",
    )
    INFRA = (
        "infra",
        "The platform underneath failed: connection refused, DNS resolution failure, TLS errors, "
        "network unreachable, the process died, out of memory or disk, the hub at capacity.",
    )
    CONFIGURATION = (
        "configuration",
        "The playbook or the hub is set up wrong: an invalid step config, a template that does not "
        "render, an unknown tool kind or entrypoint, a missing keychain secret, depth or step limits.",
    )
    DEPENDENCY = (
        "dependency",
        "A required package or framework is not installed (ModuleNotFoundError, ImportError); "
        "install it.",
    )
    INPUT_VALIDATION = (
        "input_validation",
        "The data given to the run or to a step does not fit its schema (the run's arguments, or a "
        "validation error raised by the step's code on its input).",
    )
    TOOL_ERROR = (
        "tool_error",
        "The step's own code or tool failed: an exception in a Python step (KeyError, TypeError, "
        "ZeroDivisionError, ...), a result that breaks the declared output schema, an unparseable "
        "response.",
    )
    CANCELLED = (
        "cancelled",
        "Someone or something cancelled the execution (a client, the CLI, the API); not a fault.",
    )
    UNKNOWN = (
        "unknown",
        "The evidence fits none of the above, or is too thin to say.",
    )

    @classmethod
    def values(cls) -> list[str]:
        return [c.value for c in cls]

    @classmethod
    def describe(cls) -> str:
        """One line per category, for a prompt."""
        return "\n".join(f"- {c.value}: {c.meaning}" for c in cls)  # type: ignore[attr-defined]
