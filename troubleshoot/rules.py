"""The deterministic rule tier: classifies a failure signal with no model at all.

Why it exists, beyond working offline: most failures say plainly what they are (an HTTP 503, a
missing package, a template error), and a rule is instant, free and never hallucinates. Its
confidence is also what keeps a model honest: the cascade pools a model's answer with the rule's
(see `troubleshoot.cascade`), so a model contradicting a strong rule is not believed on its own say.

Rules are tried in order; the first that matches gives the verdict. Each rule's confidence is its
expected precision on the evaluation corpus (docs/troubleshoot.md has the measured figures):
facts the hub recorded itself (an error code, an HTTP status) score high, guesses from exception
text lower. No rule matching is a verdict too: `unknown` with a low confidence, which the cascade
treats as an abstention.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from pydantic import BaseModel

from troubleshoot.categories import Category
from troubleshoot.signal import FailureSignal

NO_MATCH_CONFIDENCE = 0.2


class RuleVerdict(BaseModel):
    """What a rule concluded, and which rule it was (for the tier record and the eval)."""

    rule: str
    category: Category
    confidence: float
    root_cause: str
    suggested_action: str


# --- reading the signal ---------------------------------------------------------------------------

_STATUS_IN_TEXT = [
    re.compile(r"(?i)\b(?:status(?:[ _]code)?|error code|http(?:/\d(?:\.\d)?)?|response)[\s:=]+([1-5]\d\d)\b"),
    re.compile(r"(?i)(?:client|server) error '([45]\d\d)\b"),
    re.compile(
        r"(?i)\b([45]\d\d)[\s:-]+(?:unauthori[sz]ed|forbidden|too many requests|service unavailable|bad gateway|"
        r"gateway time-?out|internal server error|not found|bad request|unprocessable|conflict|"
        r"method not allowed|request timeout|payment required|proxy authentication)"
    ),
]
_CHILD_CODE = re.compile(r"failed: ([A-Z][A-Z0-9_]+):")


def _text(signal: FailureSignal) -> str:
    parts = [signal.error_message, signal.exception_type or "", signal.body_excerpt or "", *signal.traceback_tail]
    return "\n".join(parts)


def _has(pattern: str, text: str) -> bool:
    return re.search(pattern, text, re.I) is not None


def _status(signal: FailureSignal) -> tuple[int | None, bool]:
    """(HTTP status, recorded by the hub?) — else one named in the error text (weaker evidence)."""
    if signal.http_status is not None:
        return signal.http_status, True
    coded = re.fullmatch(r"HTTP_STATUS_(\d{3})", signal.error_code)
    if coded:
        return int(coded.group(1)), True
    text = _text(signal)
    for pattern in _STATUS_IN_TEXT:
        match = pattern.search(text)
        if match:
            return int(match.group(1)), False
    return None, False


def _where(signal: FailureSignal) -> str:
    if signal.failed_step and signal.tool_kind:
        where = f"step {signal.failed_step!r} ({signal.tool_kind})"
    elif signal.failed_step:
        where = f"step {signal.failed_step!r}"
    else:
        where = "the run"
    if signal.chain:
        where += f" of sub-run {signal.chain[-1].playbook}"
    return where


def _target(signal: FailureSignal) -> str:
    """`GET http://host/path` from the message when it names one, else "the remote service"."""
    # the URL ends before " ->", ": " or the end; its own colons (scheme, port) are kept
    match = re.search(r"\b(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) (\S+?)(?= ->|: |:?$|\s)", signal.error_message)
    return f"{match.group(1)} {match.group(2)}" if match else "the remote service"


_PACKAGE_PATTERNS = (
    r"No module named '?([\w.]+)'?",
    r"needs (?:the )?(?:package )?'?([A-Za-z][\w.\-\[\]]*)'?,? which is not installed",
    r"needs '([\w.-]+)'",
    r"Could not import ([\w.-]+)",
    r"pip install '?([A-Za-z][\w.\-\[\]]*)'?",
    r"install(?:ed)? ([\w.-]+)",
)
_INSTALL_COMMAND = re.compile(r"(pip install (?:'[^'\s]+'|\"[^\"\s]+\"|[A-Za-z][\w.\-\[\]]*))")


def _package(signal: FailureSignal) -> str | None:
    """The missing package the error names, most specific wording first (a distribution name
    like google-adk over the module it provides)."""
    text = _text(signal)
    for pattern in _PACKAGE_PATTERNS:
        match = re.search(pattern, text)
        if match:
            name = match.group(1)
            return name if "-" in name or "[" in name else name.split(".")[0]
    return None


def _install_action(signal: FailureSignal, package: str | None) -> str:
    """The install command the error itself suggests, else one for the named package."""
    command = _INSTALL_COMMAND.search(_text(signal))
    if command:
        return f"Install it in the hub's environment: {command.group(1)}" + (f" (provides {package})" if package and package not in command.group(1) else "")
    return f"Install it in the hub's environment: pip install {package}" if package else "Install the missing package named in the error."


def _verdict(rule: str, category: Category, confidence: float, root_cause: str, action: str) -> RuleVerdict:
    return RuleVerdict(rule=rule, category=category, confidence=confidence, root_cause=root_cause, suggested_action=action)


# --- the rules, in order --------------------------------------------------------------------------

Rule = Callable[[FailureSignal], RuleVerdict | None]


def _cancelled(s: FailureSignal) -> RuleVerdict | None:
    if s.error_code == "CANCELLED" or s.error_kind == "agent.cancelled":
        return _verdict("cancelled", Category.CANCELLED, 0.97,
                        "The execution was cancelled (by a client, the CLI or the API) while " + _where(s) + " ran.",
                        "Nothing to fix; run it again if the cancel was not intended.")
    return None


def _input_invalid(s: FailureSignal) -> RuleVerdict | None:
    if s.error_code == "INPUT_INVALID" or s.error_kind == "input.validation":
        return _verdict("input_invalid", Category.INPUT_VALIDATION, 0.95,
                        f"The arguments do not match the playbook's input schema: {s.error_message[:200]}",
                        "Call it again with arguments that fit the input schema (see the tool's inputSchema).")
    return None


def _dependency_code(s: FailureSignal) -> RuleVerdict | None:
    if s.error_kind == "agent.dependency" or s.error_code in ("MODULE_DEPENDENCY_MISSING", "FRAMEWORK_NOT_INSTALLED"):
        package = _package(s)
        what = f"the package {package}" if package else "a package the error message names"
        return _verdict("dependency_code", Category.DEPENDENCY, 0.95,
                        f"{_where(s).capitalize()} needs {what}, which is not installed in the hub's environment.",
                        _install_action(s, package))
    return None


def _http_status(s: FailureSignal) -> RuleVerdict | None:
    status, recorded = _status(s)
    if status is None or status < 400:
        return None
    doubt = 0.0 if recorded else 0.07  # a status read from prose is weaker than one the hub recorded
    target, where = _target(s), _where(s)
    if status in (401, 403, 407):
        return _verdict(f"http_{status}", Category.AUTH, 0.92 - doubt,
                        f"{target} refused the credentials with HTTP {status} in {where}.",
                        "Check the API key or token the step sends (keychain entry, expiry, scopes); rotate it if needed.")
    if status == 429:
        return _verdict("http_429", Category.RATE_LIMIT, 0.93 - doubt,
                        f"{target} rate-limited the caller (HTTP 429) in {where}.",
                        "Retry with backoff (honour Retry-After), lower the request rate or parallelism, or raise the quota.")
    if status == 408:
        return _verdict("http_408", Category.TIMEOUT, 0.85 - doubt,
                        f"{target} timed out waiting for the request (HTTP 408) in {where}.",
                        "Retry; if it persists, send smaller requests or check the network path.")
    if status >= 500:
        confidence = (0.8 if status in (500, 501) else 0.9) - doubt
        return _verdict(f"http_{status}", Category.TRANSIENT_5XX, confidence,
                        f"{target} answered HTTP {status} (a server-side error) in {where}.",
                        "Retry later (the step's retry policy covers 5xx); if it persists, check the service's status page or logs.")
    return _verdict(f"http_{status}", Category.BAD_REQUEST, (0.82 if status == 404 else 0.86) - doubt,
                    f"{target} rejected the request with HTTP {status} in {where}.",
                    "Fix the request the step sends (URL, method, parameters or body); retrying the same request will not help.")


_TIMEOUT_CODES = {"STEP_TIMEOUT", "HTTP_TIMEOUT", "DEADLINE_EXCEEDED"}


def _timeout_code(s: FailureSignal) -> RuleVerdict | None:
    if s.error_code in _TIMEOUT_CODES or s.error_kind == "agent.timeout":
        what = {
            "STEP_TIMEOUT": "ran past its step timeout",
            "HTTP_TIMEOUT": "timed out inside the HTTP client",
            "DEADLINE_EXCEEDED": "hit the execution's deadline",
        }.get(s.error_code, "timed out")
        return _verdict("timeout_code", Category.TIMEOUT, 0.92,
                        f"{_where(s).capitalize()} {what}.",
                        "Raise the step's `timeout` or the playbook's deadline, or find why the dependency is slow.")
    return None


def _infra_code(s: FailureSignal) -> RuleVerdict | None:
    if s.error_code == "PROCESS_DIED":
        return _verdict("process_died", Category.INFRA, 0.9,
                        "The hub process running the execution died (killed or crashed) before it finished.",
                        "Check the host for OOM kills or restarts, then run it again.")
    if s.error_code == "TOO_MANY_EXECUTIONS":
        return _verdict("hub_capacity", Category.INFRA, 0.88,
                        "The hub was already running its maximum number of concurrent executions.",
                        "Retry shortly, or raise AGENTHUB_MAX_CONCURRENT if the host has room.")
    return None


_DNS = r"name or service not known|nodename nor servname|getaddrinfo|temporary failure in name resolution|no address associated|name resolution|could not resolve|gaierror|nxdomain"
_REFUSED = r"connection refused|econnrefused|connectionrefusederror|errno 111|actively refused|all connection attempts failed"
_TLS = r"certificate|ssl|tls|handshake"
_NET = r"connection reset|econnreset|connectionerror|closed the (?:stream|connection)|connection closed|network is unreachable|no route to host|broken pipe|remoteprotocolerror|server disconnected|connection aborted"


def _connection(s: FailureSignal) -> RuleVerdict | None:
    text = _text(s)
    recorded = s.error_code in ("HTTP_CONNECTION_ERROR", "MCP_CONNECTION_ERROR")
    target = _target(s)
    if _has(_DNS, text):
        return _verdict("dns", Category.INFRA, 0.9 if recorded else 0.84,
                        f"The host name of {target} does not resolve (DNS failure) in {_where(s)}.",
                        "Check the host name in the URL and the hub's DNS/network configuration.")
    if _has(_REFUSED, text):
        return _verdict("connection_refused", Category.INFRA, 0.9 if recorded else 0.84,
                        f"Nothing accepted the connection to {target} (connection refused) in {_where(s)}.",
                        "Check that the service is running and listening on that host and port.")
    if recorded and _has(_TLS, text):
        return _verdict("tls", Category.INFRA, 0.8,
                        f"The TLS handshake with {target} failed in {_where(s)}.",
                        "Check the server's certificate and the hub's CA bundle.")
    if recorded or _has(_NET, text):
        return _verdict("network", Category.INFRA, 0.85 if recorded else 0.75,
                        f"The network connection to {target} failed in {_where(s)}.",
                        "Check connectivity between the hub and the service; retry.")
    return None


_CONFIG_HINTS = {
    "KEYCHAIN_MISSING": "Set the environment variable or file the keychain entry names.",
    "TEMPLATE_ERROR": "Fix the template (undefined name, bad filter or syntax) in the playbook.",
    "TEMPLATE_UNSAFE": "Remove the unsafe attribute access from the template; the sandbox refuses it.",
    "ENTRYPOINT_NOT_FOUND": "Check the `module:function` name and that the module is importable by the hub.",
    "UNKNOWN_TOOL_KIND": "Use a registered tool kind (agenthub catalog schema lists them).",
    "STEP_CONFIG_INVALID": "Fix the step's `tool:` block so it fits its kind.",
    "DEPTH_LIMIT_EXCEEDED": "Break the playbook cycle, or raise AGENTHUB_MAX_DEPTH if the nesting is intended.",
    "STEP_LIMIT_EXCEEDED": "Give the arc cycle an exit condition.",
    "LOOP_INPUT_INVALID": "Make `loop.in` render to a list.",
    "PLAYBOOK_NOT_FOUND": "Check the playbook path or name (agenthub catalog list).",
}


def _configuration_code(s: FailureSignal) -> RuleVerdict | None:
    if s.error_kind == "agent.configuration" or s.error_code in _CONFIG_HINTS:
        return _verdict("configuration_code", Category.CONFIGURATION, 0.9,
                        f"{_where(s).capitalize()} is misconfigured ({s.error_code}): {s.error_message[:200]}",
                        _CONFIG_HINTS.get(s.error_code, "Fix the playbook or the hub's configuration as the message says."))
    return None


def _exception_text(s: FailureSignal) -> RuleVerdict | None:
    """Failures inside code (Python steps, agent frameworks): judged by exception type and text."""
    text, kind = _text(s), (s.exception_type or "")
    where = _where(s)
    if _has(r"ModuleNotFoundError|ImportError|No module named|not installed", text):
        package = _package(s)
        return _verdict("import_error", Category.DEPENDENCY, 0.88,
                        f"{where.capitalize()} imports {('the package ' + package) if package else 'a package'} that is not installed.",
                        _install_action(s, package))
    if _has(r"Timeout|timed out|deadline exceeded", kind + "\n" + s.error_message):
        return _verdict("timeout_text", Category.TIMEOUT, 0.8,
                        f"{where.capitalize()} timed out: {s.error_message[:160]}",
                        "Raise the timeout or find why the dependency is slow.")
    if _has(r"rate.?limit|too many requests|quota", text):
        return _verdict("rate_limit_text", Category.RATE_LIMIT, 0.8,
                        f"{where.capitalize()} was rate-limited: {s.error_message[:160]}",
                        "Retry with backoff, lower the request rate, or raise the quota.")
    if _has(r"unauthori[sz]ed|forbidden|invalid api.?key|incorrect api key|authentication|invalid.{0,20}token|expired.{0,20}token|token.{0,20}expired|access denied|permission[ _]denied|not authori[sz]ed", text) and not _has(r"errno 13", text):
        return _verdict("auth_text", Category.AUTH, 0.75,
                        f"{where.capitalize()} was refused for its credentials: {s.error_message[:160]}",
                        "Check the credentials the code uses (key, token, scopes).")
    if _has(r"service unavailable|bad gateway|internal server error|overloaded|temporarily unavailable", text):
        return _verdict("server_error_text", Category.TRANSIENT_5XX, 0.72,
                        f"A service {where} depends on reported a server-side error: {s.error_message[:160]}",
                        "Retry later; if it persists, check that service's status.")
    if _has(r"no space left|out of memory|MemoryError|database is locked|too many open files|read-only file system|disk quota|Killed|errno 13", text):
        return _verdict("resource_text", Category.INFRA, 0.78,
                        f"{where.capitalize()} hit a host resource problem: {s.error_message[:160]}",
                        "Check the host's disk, memory, file handles and permissions.")
    if _has(r"ValidationError|validation error|is not valid under|field required|SchemaError|missing required", kind + "\n" + s.error_message):
        return _verdict("validation_text", Category.INPUT_VALIDATION, 0.75,
                        f"The data given to {where} does not fit its schema: {s.error_message[:160]}",
                        "Fix the input the step receives (or the schema it is checked against).")
    if kind:
        confidence = 0.6 if kind in ("RuntimeError", "Exception", "OSError") else 0.75
        return _verdict("exception", Category.TOOL_ERROR, confidence,
                        f"{where.capitalize()} raised {kind}: {s.error_message[:160]}",
                        "Fix the step's code (see the traceback tail), or guard against the input that triggers it.")
    return None


def _tool_codes(s: FailureSignal) -> RuleVerdict | None:
    if s.error_code == "OUTPUT_INVALID":
        return _verdict("output_invalid", Category.TOOL_ERROR, 0.85,
                        f"The playbook's result does not match its declared output schema: {s.error_message[:160]}",
                        "Fix the steps that build the result, or the `output:` schema.")
    if s.error_code == "HTTP_RESPONSE_INVALID":
        return _verdict("response_invalid", Category.TOOL_ERROR, 0.78,
                        f"{_target(s)} answered with something other than the JSON the step asked for.",
                        "Check the endpoint (it may return an HTML error page) or set `response: text`.")
    if s.error_code in ("MCP_PROTOCOL_ERROR", "MCP_TOOL_ERROR"):
        what = "answered outside the MCP protocol" if s.error_code == "MCP_PROTOCOL_ERROR" else "reported an error"
        return _verdict("mcp_tool", Category.TOOL_ERROR, 0.65,
                        f"The MCP tool called by {_where(s)} {what}: {s.error_message[:160]}",
                        "Check the remote MCP server's tool and the arguments the step passes.")
    if s.error_code == "PYTHON_ERROR":
        return _verdict("python_error", Category.TOOL_ERROR, 0.65,
                        f"{_where(s).capitalize()} raised: {s.error_message[:160]}",
                        "Fix the step's code (see the traceback tail).")
    if s.error_code == "INTERNAL_ERROR":
        return _verdict("internal_error", Category.TOOL_ERROR, 0.5,
                        f"The hub itself failed while running {_where(s)}: {s.error_message[:160]}",
                        "Report it as a hub bug, with the execution id.")
    return None


def _child_code(s: FailureSignal) -> RuleVerdict | None:
    """A PLAYBOOK_FAILED whose child could not be followed: judge by the child's code in the text."""
    if s.error_code != "PLAYBOOK_FAILED":
        return None
    match = _CHILD_CODE.search(s.error_message)
    if match:  # judge the child's own code and message (the text after it): one level per call
        inner = s.model_copy(update={
            "error_code": match.group(1), "error_message": s.error_message[match.end():].strip(),
            "http_status": None, "error_kind": "agent.execution",
        })
        found = classify(inner)
        if found.category is not Category.UNKNOWN:
            return found.model_copy(update={"rule": "child:" + found.rule, "confidence": round(found.confidence * 0.9, 3)})
    return _verdict("playbook_failed", Category.UNKNOWN, 0.3,
                    f"A sub-run failed and its own failure is not recorded here: {s.error_message[:160]}",
                    "Open the child execution (agenthub executions show) for the root cause.")


RULES: list[Rule] = [
    _cancelled,
    _input_invalid,
    _dependency_code,
    _timeout_code,
    _http_status,
    _infra_code,
    _connection,
    _configuration_code,
    _child_code,
    _exception_text,
    _tool_codes,
]


def classify(signal: FailureSignal) -> RuleVerdict:
    """The first matching rule's verdict, or `unknown` at NO_MATCH_CONFIDENCE."""
    for rule in RULES:
        verdict = rule(signal)
        if verdict is not None:
            return verdict
    return _verdict("no_match", Category.UNKNOWN, NO_MATCH_CONFIDENCE,
                    f"No rule recognises {signal.error_code}: {signal.error_message[:160]}",
                    "Read the execution's events (agenthub executions show ID).")
