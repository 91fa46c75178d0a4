"""The closed table of error kinds and codes every envelope draws from.

A contract module: it imports nothing else of `hub/`. Every failure the hub reports names one
`ErrorCode` member, so the set of codes is finite, documented (docs/errors.md, checked by a test)
and stable for clients that branch on it. HTTP status failures are the one family built at run time
(`HTTP_STATUS_<n>`); `http_status_code()` gives their retryability.
"""

from __future__ import annotations

from enum import Enum
from typing import Literal

ErrorKind = Literal[
    "input.validation",
    "agent.configuration",
    "agent.dependency",
    "agent.execution",
    "agent.timeout",
    "agent.cancelled",
]


class ErrorCode(Enum):
    """A symbolic error code with its kind, retryability and a one-line account of when it happens."""

    def __init__(self, kind: ErrorKind, retryable: bool, when: str) -> None:
        self.kind: ErrorKind = kind
        self.retryable = retryable
        self.when = when

    INPUT_INVALID = (
        "input.validation",
        False,
        "The arguments do not match the playbook's input schema (the message names the path).",
    )
    PLAYBOOK_NOT_FOUND = (
        "agent.configuration",
        False,
        "No playbook with that path, name or version is in the catalog.",
    )
    PLAYBOOK_INVALID = (
        "agent.configuration",
        False,
        "The playbook file does not load (YAML or model errors, with file, line and field).",
    )
    POLICY_FAILED = (
        "agent.execution",
        False,
        "A tool's `spec.policy.rules` said `do: fail` for an outcome the tool itself did not fail.",
    )
    STEP_CONFIG_INVALID = (
        "agent.configuration",
        False,
        "A step's tool block, after rendering, does not fit its kind (wrong field or type).",
    )
    UNKNOWN_TOOL_KIND = (
        "agent.configuration",
        False,
        "A step names a tool kind that no registered step kind provides.",
    )
    ENTRYPOINT_NOT_FOUND = (
        "agent.configuration",
        False,
        "A `module:function` does not import, or the module has no such attribute.",
    )
    TEMPLATE_ERROR = (
        "agent.configuration",
        False,
        "A template does not render: syntax error, undefined variable or a failing filter.",
    )
    TEMPLATE_UNSAFE = (
        "agent.configuration",
        False,
        "A template tried to reach unsafe attributes (e.g. `__class__`); the sandbox refused it.",
    )
    KEYCHAIN_MISSING = (
        "agent.configuration",
        False,
        "A required keychain entry has no value (its environment variable or file is missing).",
    )
    LOOP_INPUT_INVALID = (
        "agent.configuration",
        False,
        "A step's `loop.in` did not render to a list.",
    )
    DEPTH_LIMIT_EXCEEDED = (
        "agent.configuration",
        False,
        "A sub-run would nest deeper than the depth limit (e.g. a playbook cycle A -> B -> A).",
    )
    STEP_LIMIT_EXCEEDED = (
        "agent.configuration",
        False,
        "An execution activated more steps than its limit (a runaway arc cycle).",
    )
    MODULE_DEPENDENCY_MISSING = (
        "agent.dependency",
        False,
        "A Python step's or agent's module imports a package that is not installed (the message names it).",
    )
    UNKNOWN_FRAMEWORK = (
        "agent.configuration",
        False,
        "An `agent` step names a framework other than adk, langchain, custom or noetl (alias playbook).",
    )
    INVALID_ENTRYPOINT = (
        "agent.configuration",
        False,
        "An `agent` step's `entrypoint` has the wrong shape for its framework "
        "(`pkg.module:attr` for Python frameworks, a catalog path for noetl).",
    )
    INVALID_ENTRYPOINT_MODE = (
        "agent.configuration",
        False,
        "An `agent` step's `entrypoint_mode` is neither `factory` nor `callable`.",
    )
    INVALID_ENTRYPOINT_ARGS = (
        "agent.configuration",
        False,
        "An `agent` step's `entrypoint_args` is not a mapping, or does not fit the factory's signature.",
    )
    INVALID_INVOKE_KWARGS = (
        "agent.configuration",
        False,
        "An `agent` step's `invoke_kwargs` is not a mapping (or, for noetl, carries `version`: use `tool.version`).",
    )
    INVALID_INVOKE_METHOD = (
        "agent.configuration",
        False,
        "The agent runtime has no such `invoke_method`, or no method the framework can invoke.",
    )
    AGENT_OPTION_INVALID = (
        "agent.configuration",
        False,
        "An `agent` step has an unknown key, a key its framework does not use, or a bad `timeout`/`version`.",
    )
    PAYLOAD_MISMATCH = (
        "agent.configuration",
        False,
        "An `agent` step's payload does not fit the agent (its signature, or the shape the framework needs).",
    )
    INVALID_RUNTIME = (
        "agent.configuration",
        False,
        "The entrypoint (or what its factory returned) is not something the framework can run.",
    )
    MCP_SERVER_NOT_FOUND = (
        "agent.configuration",
        False,
        "An `mcp` step names a server that no `kind: McpServer` catalog file defines.",
    )
    MCP_TOOL_NOT_FOUND = (
        "agent.configuration",
        False,
        "The MCP server does not list the tool an `mcp` step calls (all pages of tools/list were read).",
    )
    TOOL_KIND_UNAVAILABLE = (
        "agent.dependency",
        False,
        "A step uses a tool kind the hub knows (a NoETL kind such as `snowflake` or `container`), or a "
        "NoETL feature of a kind (a `postgres` script source), that it cannot run; the message names it "
        "and why. The playbook loads; only this step fails.",
    )
    EXTRA_NOT_INSTALLED = (
        "agent.dependency",
        False,
        "A step kind needs an optional package that is not installed; the message names the extra "
        "(`pip install 'agenthub[postgres]'`, `'agenthub[duckdb]'` or `'agenthub[nats]'`).",
    )
    SECRET_NOT_FOUND = (
        "agent.configuration",
        False,
        "A `secrets` step (or a connection's `auth:`) names a secret that no keychain entry, "
        "environment variable or file provides.",
    )
    PYTHON_ERROR = (
        "agent.execution",
        False,
        "A Python step raised; the message holds the exception type and text.",
    )
    FRAMEWORK_NOT_INSTALLED = (
        "agent.dependency",
        False,
        "An `agent` step's framework needs an optional package that is not installed; the message "
        "names the extra (`pip install 'agenthub[adk]'` or `'agenthub[langchain]'`).",
    )
    AGENT_FACTORY_ERROR = (
        "agent.execution",
        False,
        "An agent's factory raised while building the runtime; the message holds the exception type and text.",
    )
    AGENT_ERROR = (
        "agent.execution",
        False,
        "An agent raised (or its runtime reported an error); the message holds the exception type and text.",
    )
    MCP_CONNECTION_ERROR = (
        "agent.execution",
        True,
        "The MCP server could not be started or reached, or its connection dropped and reopening it failed.",
    )
    MCP_PROTOCOL_ERROR = (
        "agent.execution",
        False,
        "The MCP server answered with a JSON-RPC error, or a result that breaks the protocol or the tool's "
        "output schema.",
    )
    MCP_TOOL_ERROR = (
        "agent.execution",
        False,
        "The MCP tool answered with `isError: true`; the message holds its text content.",
    )
    NO_MCP_CALLER = (
        "agent.configuration",
        False,
        "An `elicit`, `sample` or `roots` step ran without an MCP client to ask: a REST or CLI run, a cluster "
        "worker (it does not hold the caller's connection), or a connection that cannot carry requests.",
    )
    CLIENT_CAPABILITY_MISSING = (
        "agent.configuration",
        False,
        "The calling MCP client did not declare a capability (elicitation, sampling, roots) a step of the "
        "playbook needs; nothing ran.",
    )
    ELICITATION_DECLINED = (
        "agent.execution",
        False,
        "The user declined an `elicit` step's request (a step with `on_decline: continue` goes on instead).",
    )
    ELICITATION_INVALID = (
        "agent.execution",
        False,
        "The content the client accepted an `elicit` step with does not fit the step's fields.",
    )
    CALLER_REQUEST_FAILED = (
        "agent.execution",
        False,
        "The client answered an `elicit`, `sample` or `roots` step's request with an error (its user refused, it has no model).",
    )
    HTTP_CONNECTION_ERROR = (
        "agent.execution",
        True,
        "An HTTP step could not connect (refused, DNS failure, TLS or protocol error).",
    )
    HTTP_STATUS = (
        "agent.execution",
        False,
        "Family `HTTP_STATUS_<n>`: an HTTP step got status n >= 400; retryable for 408, 429 and 5xx.",
    )
    HTTP_RESPONSE_INVALID = (
        "agent.execution",
        False,
        "An HTTP step asked for a JSON response (`response: json`) and got something else.",
    )
    DB_CONNECTION_ERROR = (
        "agent.execution",
        True,
        "A `postgres` step could not connect (refused, unknown host, authentication or database "
        "rejected) or lost its connection; the message never holds the password.",
    )
    SQL_ERROR = (
        "agent.execution",
        False,
        "A `postgres` or `duckdb` statement failed (syntax, missing table, constraint); "
        "`details.sqlstate` holds PostgreSQL's code when there is one.",
    )
    SHELL_COMMAND_FAILED = (
        "agent.execution",
        False,
        "A `shell` command exited with a non-zero status; the output holds stdout, stderr and the exit code.",
    )
    NATS_CONNECTION_ERROR = (
        "agent.execution",
        True,
        "A `nats` step could not connect to its server (refused, unknown host, authorization rejected).",
    )
    NATS_ERROR = (
        "agent.execution",
        False,
        "The NATS server refused a `nats` operation (no responders, no such bucket or stream, JetStream off).",
    )
    PLAYBOOK_FAILED = (
        "agent.execution",
        False,
        "A sub-run (`playbook` step) failed; retryable when the child's error was. "
        "`details.child_execution_id` names the child.",
    )
    OUTPUT_INVALID = (
        "agent.execution",
        False,
        "The playbook's result does not match its declared `output` schema.",
    )
    OUTPUT_NOT_SERIALIZABLE = (
        "agent.execution",
        False,
        "A step returned data the hub cannot store as JSON (nested too deep, or an integer of over 4300 "
        "digits); the message names the path.",
    )
    PROCESS_DIED = (
        "agent.execution",
        True,
        "The process running the execution died (killed, crashed); found when the store is next opened.",
    )
    TOO_MANY_EXECUTIONS = (
        "agent.execution",
        True,
        "The hub already runs its maximum of concurrent executions (in a cluster: more runs than the configured queue depth wait for a worker); nothing was started.",
    )
    DELIVERY_EXHAUSTED = (
        "agent.execution",
        True,
        "In a cluster, the run was handed to a worker the queue's `max_deliver` times and no worker finished it (each died or went silent).",
    )
    INTERNAL_ERROR = (
        "agent.execution",
        False,
        "A bug in the hub itself; the message carries the exception. Please report it.",
    )
    STEP_TIMEOUT = (
        "agent.timeout",
        True,
        "A step (one attempt) ran past its `timeout`.",
    )
    AGENT_TIMEOUT = (
        "agent.timeout",
        True,
        "An `agent` step's own `timeout` passed before the agent answered (a noetl child is stopped).",
    )
    MCP_TIMEOUT = (
        "agent.timeout",
        True,
        "An MCP tool call (with connecting) took longer than the step's or the server's `timeout`.",
    )
    HTTP_TIMEOUT = (
        "agent.timeout",
        True,
        "An HTTP step's connect, read or write timed out inside the HTTP client.",
    )
    SHELL_TIMEOUT = (
        "agent.timeout",
        True,
        "A `shell` command ran past its `timeout_seconds`; it was killed with its whole process group.",
    )
    NATS_TIMEOUT = (
        "agent.timeout",
        True,
        "A `nats` request got no reply (or a JetStream operation no acknowledgement) within its `timeout`.",
    )
    CALLER_INPUT_TIMEOUT = (
        "agent.timeout",
        False,
        "The MCP client did not come back with the answer an `elicit`, `sample` or `roots` step asked for "
        "(a 2026-era input round) within the hub's input timeout.",
    )
    DEADLINE_EXCEEDED = (
        "agent.timeout",
        True,
        "The execution's one deadline, shared by every step and sub-run, ran out.",
    )
    CANCELLED = (
        "agent.cancelled",
        False,
        "The execution was cancelled (CLI `cancel`, API, or the client went away).",
    )
    ELICITATION_CANCELLED = (
        "agent.cancelled",
        False,
        "The user dismissed an `elicit` step's request without answering (a step with "
        "`on_decline: continue` goes on instead).",
    )


RETRYABLE_HTTP_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


def http_status_code(status: int) -> tuple[str, bool]:
    """The code and retryability for an HTTP status failure (`HTTP_STATUS_503`, True)."""
    return f"HTTP_STATUS_{status}", status in RETRYABLE_HTTP_STATUSES or status >= 500
