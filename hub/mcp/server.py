"""The MCP server: every exposed catalog playbook as a tool, on the `mcp` SDK's low-level `Server`.

One `HubMcpServer` per hub. Its `.server` serves both protocol eras the SDK speaks (2025-11-25
with initialize and sessions, 2026-07-28 stateless) over any transport: `run_stdio()` here, and
the streamable HTTP app, which mounts the same `.server`.

- tools/list: the exposed playbooks plus the `hub_*` tools, sorted by name, cursor-paged, filtered
  by the caller's token scopes (`hub.mcp.tools.caller_scopes`).
- tools/call: runs the playbook through the engine (which validates the arguments first: bad ones
  give an `input.validation` envelope and no step runs), reports step events as progress, cancels
  the execution when the client cancels, and answers `running` after the call timeout.
- prompts: the catalog's `kind: Prompt` documents (`hub.mcp.prompts`).
- resources: each execution's report (text and JSON), each playbook's YAML source, the catalog's
  `kind: Resource` documents; subscriptions to any of them (`hub.mcp.resource_updates`).
- list_changed: the catalog directory is watched (`watch_catalog()`); on a change both eras are
  told: 2026 clients through `subscriptions/listen` (the bus), legacy clients on the sessions
  remembered per connection.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import warnings
from importlib.metadata import PackageNotFoundError, version
from typing import Any, BinaryIO

import anyio
from mcp import types
from mcp.server import NotificationOptions, Server, ServerRequestContext
from mcp.server.models import InitializationOptions
from mcp.server.request_state import RequestStateBoundary, RequestStateSecurity
from mcp.server.stdio import stdio_server
from mcp.server.subscriptions import (
    InMemorySubscriptionBus,
    ListenHandler,
    PromptsListChanged,
    ResourcesListChanged,
    ToolsListChanged,
)
from mcp.shared.exceptions import MCPDeprecationWarning, MCPError
from mcp.types.version import MODERN_PROTOCOL_VERSIONS

from catalog.entries import CatalogEntry
from hub.app import Hub
from hub.engine.executions import RunHandle
from hub.mcp.completion import HubCompletion
from hub.mcp.caller import CAPABILITY_KINDS, PushCaller, declared_capabilities, missing_capability_error
from hub.mcp.hub_tools import HUB_TOOLS, HubTools
from hub.mcp.input_rounds import EXECUTION_META, InputRounds, ParkedRun, RoundCaller
from hub.mcp.listing import ToolListing
from hub.mcp.legacy_sessions import DEFAULT_MAX_SESSIONS, LegacySessions, legacy_session_key
from hub.mcp.prompts import HubPrompts
from hub.mcp.resource_updates import ResourceUpdates
from hub.mcp.resources import HubResources
from hub.mcp.progress import EventRelay, needs_relay, relay_progress
from hub.mcp.step_logs import LogLevels
from hub.mcp.tasks import HubTasks
from hub.mcp.tools import (
    caller_scopes,
    current_caller,
    entry_visible,
    envelope_result,
    envelope_wire,
)

log = logging.getLogger("agenthub.mcp")

DEFAULT_PAGE_SIZE = 100
PAGE_SIZE_ENV = "AGENTHUB_MCP_PAGE_SIZE"
MAX_LEGACY_SESSIONS = DEFAULT_MAX_SESSIONS
NOTIFY_TIMEOUT = 2.0
CANCEL_RECORD_TIMEOUT = 10.0
INSTRUCTIONS = (
    "agenthub runs catalog playbooks. Each tool is one playbook and answers with an agent "
    "envelope (status ok|error|running, data, execution_id, error{kind, code, message}). A call "
    "answered 'running' goes on: ask hub_execution_status (with wait) for its result. "
    "hub_find_agents searches the catalog by capability, tag or text."
)


def _server_version() -> str:
    try:
        return version("agenthub")
    except PackageNotFoundError:  # running from a source tree without installing
        return "0.0.0"


class HubServer(Server[Any]):
    """`Server` whose initialization options advertise list_changed by default.

    The streamable HTTP legacy leg calls `create_initialization_options()` with no arguments, so
    without this a legacy HTTP client would be told `listChanged: false` though it gets the
    notifications.
    """

    def create_initialization_options(
        self,
        notification_options: NotificationOptions | None = None,
        experimental_capabilities: dict[str, dict[str, Any]] | None = None,
        extensions: dict[str, dict[str, Any]] | None = None,
    ) -> InitializationOptions:
        return super().create_initialization_options(
            notification_options
            or NotificationOptions(tools_changed=True, resources_changed=True, prompts_changed=True),
            experimental_capabilities,
            extensions,
        )


class HubMcpServer:
    """The hub's MCP server. `.server` is the SDK `Server` to run on any transport."""

    def __init__(
        self,
        hub: Hub,
        *,
        page_size: int | None = None,
        call_timeout: float | None = None,
        execution_links: bool | None = None,
        name: str = "agenthub",
        max_sessions: int = MAX_LEGACY_SESSIONS,
        session_idle_timeout: float | None = None,
        input_timeout: float | None = None,
    ) -> None:
        self.hub = hub
        self.execution_links = hub.config.execution_links if execution_links is None else execution_links
        if page_size is None:
            page_size = int(os.environ.get(PAGE_SIZE_ENV) or DEFAULT_PAGE_SIZE)
        self.page_size = page_size
        if self.page_size < 1:
            raise ValueError("page size must be at least 1")
        self.call_timeout = call_timeout if call_timeout is not None else hub.config.call_timeout
        self.bus = InMemorySubscriptionBus()
        self.listen = ListenHandler(self.bus)
        self.hub_tools = HubTools(hub, execution_links=self.execution_links)
        self.resources = HubResources(hub, self.page_size)
        self.prompts = HubPrompts(hub, self.page_size)
        self.resource_updates = ResourceUpdates(self.resources.fingerprint, self.bus, readable=self.resources.readable)
        self.log_levels = LogLevels()
        self.sessions = LegacySessions(
            max_sessions=max_sessions, idle_timeout=session_idle_timeout, on_drop=self._connection_dropped
        )
        self._listing: ToolListing | None = None
        self.completion = HubCompletion(hub)
        self.input_timeout = hub.config.input_timeout if input_timeout is None else input_timeout
        self.rounds = InputRounds(linger=self.input_timeout)
        self.tasks = HubTasks(hub, links=self.execution_links)
        with warnings.catch_warnings():  # logging is deprecated in 2026-07-28, still served to 2025 clients
            warnings.simplefilter("ignore", MCPDeprecationWarning)
            self.server = self._build_server(name)
        self.tasks.register(self.server)
        self.server.add_notification_handler(
            "notifications/initialized", types.NotificationParams, self._on_initialized
        )
        # seals the requestState of input rounds (hub.mcp.input_rounds) with a key of this process:
        # a parked run lives here anyway, so no key needs sharing between replicas
        self.server.middleware.append(RequestStateBoundary(
            RequestStateSecurity.ephemeral(ttl=self.input_timeout), default_audience=name))

    def _build_server(self, name: str) -> HubServer:
        return HubServer(
            name,
            version=_server_version(),
            title="agenthub",
            description="Catalog playbooks and agents as MCP tools.",
            instructions=INSTRUCTIONS,
            get_tool_input_schema=self._input_schema_of,
            on_list_tools=self._list_tools,
            on_call_tool=self._call_tool,
            on_list_resources=self.resources.list_resources,
            on_list_resource_templates=self.resources.list_resource_templates,
            on_read_resource=self.resources.read_resource,
            on_subscribe_resource=self.resource_updates.subscribe_handler(self.remember_session),
            on_unsubscribe_resource=self.resource_updates.unsubscribe_handler,
            on_list_prompts=self.prompts.list_prompts,
            on_get_prompt=self.prompts.get_prompt,
            on_subscriptions_listen=self.resource_updates.listen(self.listen),
            on_set_logging_level=self._set_logging_level,
            on_completion=self.completion.complete,
        )

    # -- transports and change notifications ---------------------------------------------------

    async def run_stdio(self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
        """Serve one client over stdin/stdout until it closes them, watching the catalog meanwhile.

        `stdin`/`stdout`: the protocol streams when the caller already moved them off fd 0/1 (the
        CLI does, before any user code runs: `hub.cli.protocol_streams`); else the SDK diverts fd
        0/1 itself while serving."""
        streams: dict[str, Any] = {}
        if stdin is not None:
            streams["stdin"] = anyio.wrap_file(io.TextIOWrapper(stdin, encoding="utf-8", errors="replace"))
        if stdout is not None:
            streams["stdout"] = anyio.wrap_file(io.TextIOWrapper(stdout, encoding="utf-8"))
        async with stdio_server(**streams) as (read, write), anyio.create_task_group() as tasks:
            await tasks.start(self.watch_catalog)
            await self.server.run(read, write, self.server.create_initialization_options())
            tasks.cancel_scope.cancel()

    async def watch_catalog(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Reload the catalog on file changes and tell clients and resource subscribers; runs until
        cancelled (`await tasks.start(...)` it: started once the catalog directory is watched)."""
        watching = anyio.Event()
        async with anyio.create_task_group() as tasks:
            async def watch_hub() -> None:
                await self.hub.watch(self.notify_tools_changed, on_watching=watching.set)
                tasks.cancel_scope.cancel()

            tasks.start_soon(self.resource_updates.watch)
            tasks.start_soon(watch_hub)
            await watching.wait()
            task_status.started()

    async def notify_tools_changed(self) -> None:
        """Tell every connected client, of both eras, that the tools, prompts and resources
        changed (a catalog change may touch any of them; a client refetches what it shows)."""
        await self.bus.publish(ToolsListChanged())
        await self.bus.publish(PromptsListChanged())
        await self.bus.publish(ResourcesListChanged())
        for key, session in self.sessions.items():
            try:
                with anyio.fail_after(NOTIFY_TIMEOUT):
                    await session.send_tool_list_changed()
                    await session.send_prompt_list_changed()
                    await session.send_resource_list_changed()
            except Exception as exc:  # a dead or stuck connection: stop telling it
                log.debug("list_changed to session %s failed (%r); forgetting it", key, exc)
                self.forget_session(key)

    def remember_session(self, ctx: ServerRequestContext[Any, Any]) -> None:
        """Keep a legacy connection's session to send it list_changed later (called on every
        request; the newest proxy of a connection wins). Bounded, and forgotten when the session
        ends (`hub.mcp.legacy_sessions`)."""
        key = legacy_session_key(ctx)
        if key is None:
            return
        self.sessions.remember(key, ctx.session)

    def wants_post_streams(self, key: str | None) -> bool:
        """Whether a legacy session's request POSTs may carry more than their response: it asked
        for logs, or its client can be asked questions (elicitation, sampling, roots: pushed
        requests ride the call's stream), or it is not known yet. `hub.http.quiet_posts` answers the other
        sessions' quiet POSTs as JSON."""
        if self.log_levels.wants(key):
            return True
        session = self.sessions.get(key)
        capabilities = getattr(session, "client_capabilities", None) if session is not None else None
        if capabilities is None:
            return True
        return any(getattr(capabilities, name, None) is not None for name in CAPABILITY_KINDS)

    def forget_session(self, key: str) -> None:
        """Drop a legacy connection (e.g. its HTTP session was deleted or expired) and what the hub
        kept for it (its log level, its subscriptions: `LegacySessions.on_drop`)."""
        self.sessions.forget(key)

    def _connection_dropped(self, key: str) -> None:
        """What the hub kept for a legacy connection goes with it (`LegacySessions.on_drop`)."""
        self.log_levels.forget(key)
        self.resource_updates.forget_connection(key)

    async def _set_logging_level(
        self, ctx: ServerRequestContext[Any, Any], params: types.SetLevelRequestParams
    ) -> types.EmptyResult:
        """`logging/setLevel` (2025 era): this connection's minimum level for step log messages."""
        self.remember_session(ctx)
        self.log_levels.set(legacy_session_key(ctx), params.level)
        return types.EmptyResult()

    async def _on_initialized(self, ctx: ServerRequestContext[Any, Any], params: types.NotificationParams) -> None:
        self.remember_session(ctx)

    # -- tools ---------------------------------------------------------------------------------

    def listing(self) -> ToolListing:
        """The tool descriptors, rebuilt only when the catalog's served set changed."""
        generation = self.hub.catalog.generation
        if self._listing is None or self._listing.generation != generation:
            self._listing = ToolListing.build(generation, HUB_TOOLS, self.hub.catalog.entries(),
                                              self.hub.kinds.entry_client_capabilities)
        return self._listing

    def visible_tools(self, scopes: frozenset[str] | None) -> list[types.Tool]:
        """The tools a caller with these token scopes may see (None: no auth, all of them)."""
        return [tool for tool, entry in self.listing().tools if entry is None or entry_visible(entry, scopes)]

    def _input_schema_of(self, name: str) -> dict[str, Any] | None:
        found = self.listing().by_name.get(name)
        return found[0].input_schema if found else None

    async def _list_tools(
        self, ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> dict[str, Any]:
        """A page of tools as wire data (`ToolListing.wire_page`), which the SDK checks against
        `ListToolsResult` as it would the model, without dumping each tool's model again."""
        self.remember_session(ctx)
        return self.listing().wire_page(caller_scopes(), params.cursor if params else None, self.page_size)

    async def _call_tool(
        self, ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult | types.InputRequiredResult | dict[str, Any]:
        """Run a tool (or start it as a task: `hub.mcp.tasks`). An unknown tool, and one the
        caller's scopes do not allow (told apart by nothing, so hidden tools do not leak), is a
        protocol error: MCPError(INVALID_PARAMS)."""
        self.remember_session(ctx)
        scopes = caller_scopes()
        found = self.listing().by_name.get(params.name)
        entry = found[1] if found else None
        if found is None or (entry is not None and not entry_visible(entry, scopes)):
            raise MCPError(types.INVALID_PARAMS, f"Unknown tool: {params.name}")
        arguments = params.arguments or {}
        if entry is None:
            return await self.hub_tools.call(params.name, arguments, scopes)
        if ctx.protocol_version not in MODERN_PROTOCOL_VERSIONS:
            return await self._run_playbook(ctx, entry, arguments, PushCaller(ctx))
        if params.request_state is not None:  # the next input round of a parked run
            parked = self.rounds.claim(params.request_state, params.name, current_caller().subject)
            parked.caller.answer(params.input_responses)
            if self.tasks.mode(ctx, entry) == "rounds":  # the answered call makes it a task
                return await self.tasks.adopt(parked.handle, parked.caller)
            return await self._run_playbook(ctx, entry, arguments, parked.caller, parked)
        declared = declared_capabilities(ctx)
        missing = self.hub.kinds.client_capabilities(entry.playbook) - declared
        if missing:
            raise missing_capability_error(missing, params.name)
        task_mode = self.tasks.mode(ctx, entry)
        caller = RoundCaller(declared, params.input_responses, self.input_timeout)
        if task_mode == "task":
            return await self.tasks.create(entry, arguments, caller)
        return await self._run_playbook(ctx, entry, arguments, caller)

    async def _run_playbook(
        self, ctx: ServerRequestContext[Any, Any], entry: CatalogEntry, arguments: dict[str, Any],
        caller: PushCaller | RoundCaller, parked: ParkedRun | None = None,
    ) -> types.CallToolResult | types.InputRequiredResult | dict[str, Any]:
        """Start the run (or go on with a `parked` one), relay its step events as progress, and
        answer with its envelope, with its questions for the client (an input round, 2026 era:
        `hub.mcp.input_rounds`), or with status "running" once the call timeout passed (the run
        goes on; time a 2025 client spends answering a question does not count). If the client
        cancels, the execution is cancelled and recorded as such before the cancellation goes on."""
        who = current_caller()
        connection = legacy_session_key(ctx)
        relay = parked.relay if parked else EventRelay()
        receive = relay.attach() if needs_relay(ctx, self.log_levels, connection) else None
        if parked is None:
            with anyio.CancelScope(shield=True):  # a cancel now would orphan a created execution
                handle = await self.hub.engine.start(
                    entry, arguments, listener=relay, started_by=who.subject, caller_scopes=who.scopes,
                    caller=caller,
                )
        else:
            handle = parked.handle
        asked = caller.asked() if isinstance(caller, RoundCaller) else None
        waits = [handle.task, *([asked] if asked else [])]
        try:
            if receive is None:  # nothing of the run can reach this caller: no relay
                try:
                    await self._wait_for_run(waits, caller)
                finally:
                    if asked is not None:
                        asked.cancel()
            else:
                async with anyio.create_task_group() as tasks:
                    tasks.start_soon(relay_progress, ctx, receive, handle.execution_id, self.log_levels, connection)
                    try:
                        await self._wait_for_run(waits, caller)
                    finally:
                        relay.detach()  # the relay sends what is queued, then ends
                        if asked is not None:
                            asked.cancel()
        except anyio.get_cancelled_exc_class():
            with anyio.CancelScope(shield=True):
                await self._cancel_and_record(handle)
            raise
        if handle.task.done():
            return envelope_wire(handle.task.result(), link=self.execution_links)
        await handle.durable()
        if isinstance(caller, RoundCaller) and caller.questions():
            token = self.rounds.park(ParkedRun(handle, caller, relay, entry.name, who.subject))
            return types.InputRequiredResult(input_requests=caller.questions(), request_state=token,
                                             _meta={EXECUTION_META: handle.execution_id})
        envelope = await self.hub.engine.snapshot(handle.execution_id)
        assert envelope is not None  # durable above
        return envelope_result(envelope, wait=self.call_timeout, link=self.execution_links)

    async def _wait_for_run(self, waits: list[asyncio.Future[Any]], caller: PushCaller | RoundCaller) -> None:
        """Until the run ends, asks something (`waits`), or the call timeout passes while the
        client is not answering a question."""
        while not (await asyncio.wait(waits, timeout=self.call_timeout, return_when=asyncio.FIRST_COMPLETED))[0]:
            if not caller.answering:
                break

    async def _cancel_and_record(self, handle: RunHandle) -> None:
        await self.hub.engine.cancel(handle.execution_id)
        with anyio.move_on_after(CANCEL_RECORD_TIMEOUT):
            await asyncio.wait([handle.task])
        log.info("execution %s cancelled by the client", handle.execution_id)
