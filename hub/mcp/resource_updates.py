"""Resource subscriptions: a client that subscribed to a resource is told when it changes.

Both eras: a 2025-11-25 connection calls `resources/subscribe` / `resources/unsubscribe` and gets
`notifications/resources/updated` on its session; a 2026-07-28 client opens `subscriptions/listen`
with `resourceSubscriptions: [uri, ...]` and gets the same notification on that stream (the SDK's
`ListenHandler` filters by URI; this module only publishes `ResourceUpdated` on the bus while some
listen stream wants the URI).

What "changed" means is a fingerprint per URI, polled every `interval` seconds for the URIs someone
is subscribed to (and only those): an execution's report changes with its status and with every
event appended (the last event's sequence number, found by reading only the events after the one
seen last, so a check costs what is new, not the run's size), which works for runs started by any face or any
process sharing the store; a catalog resource or playbook source changes with its file's digest.
Polling the store, not hooking one process's engine, is what makes a cluster's front end tell its
clients about a run a worker is executing.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from mcp import types
from mcp.server import ServerRequestContext
from mcp.server.subscriptions import ListenHandler, ResourceUpdated, SubscriptionBus
from mcp.shared.exceptions import MCPError

from hub.mcp.legacy_sessions import legacy_session_key

log = logging.getLogger("agenthub.mcp")

DEFAULT_INTERVAL = 0.5
Fingerprint = Callable[[str, str | None], Awaitable[str | None]]
"""The current version of a resource by URI, given the version seen last (None: it does not exist,
or is not readable). The last version lets a check read only what changed since."""


class ResourceUpdates:
    """Who is subscribed to which resource URI, and the loop that tells them of changes."""

    def __init__(
        self,
        fingerprint: Fingerprint,
        bus: SubscriptionBus,
        *,
        readable: Callable[[str], Awaitable[bool]] | None = None,
        interval: float = DEFAULT_INTERVAL,
    ) -> None:
        self.fingerprint = fingerprint
        self.readable = readable
        """Whether the current caller may subscribe to a URI (None: anyone may)."""
        self.bus = bus
        self.interval = interval
        self._legacy: dict[str, dict[str, Any]] = {}
        """URI -> {connection key: its session} (2025 era)."""
        self._listening: Counter[str] = Counter()
        """URI -> how many open 2026 listen streams want it."""
        self._seen: dict[str, str | None] = {}

    def subscribe(self, uri: str, connection: str, session: Any) -> None:
        self._legacy.setdefault(uri, {})[connection] = session
        self._seen.setdefault(uri, None)

    def unsubscribe(self, uri: str, connection: str) -> None:
        sessions = self._legacy.get(uri, {})
        sessions.pop(connection, None)
        if not sessions:
            self._legacy.pop(uri, None)
            self._forget_if_unwatched(uri)

    def forget_connection(self, connection: str) -> None:
        """A legacy connection ended: drop all its subscriptions."""
        for uri in list(self._legacy):
            self.unsubscribe(uri, connection)

    def subscribed(self, connection: str) -> set[str]:
        return {uri for uri, sessions in self._legacy.items() if connection in sessions}

    def _forget_if_unwatched(self, uri: str) -> None:
        if uri not in self._legacy and not self._listening[uri]:
            self._listening.pop(uri, None)
            self._seen.pop(uri, None)

    def subscribe_handler(
        self, remember: Callable[[ServerRequestContext[Any, Any]], None]
    ) -> Callable[..., Awaitable[types.EmptyResult]]:
        """`resources/subscribe` (2025 era): tell this connection when the resource changes. Any
        URI is accepted (a subscription to one that does not exist yet fires when it appears).
        `remember` keeps the connection's session (`HubMcpServer.remember_session`)."""

        async def subscribe(ctx: ServerRequestContext[Any, Any], params: types.SubscribeRequestParams) -> types.EmptyResult:
            remember(ctx)
            key = legacy_session_key(ctx)
            if key is None:
                raise MCPError(types.INVALID_REQUEST, "resources/subscribe needs a session (stdio, or HTTP "
                                                      "with initialize); 2026-07-28 clients use subscriptions/listen")
            uri = str(params.uri)
            if self.readable is not None and not await self.readable(uri):
                raise MCPError(types.INVALID_PARAMS, f"Resource not found: {uri}", {"uri": uri})
            self.subscribe(uri, key, ctx.session)
            await self.prime(uri)
            return types.EmptyResult()

        return subscribe

    async def unsubscribe_handler(
        self, ctx: ServerRequestContext[Any, Any], params: types.UnsubscribeRequestParams
    ) -> types.EmptyResult:
        key = legacy_session_key(ctx)
        if key is not None:
            self.unsubscribe(str(params.uri), key)
        return types.EmptyResult()

    def listen(self, handler: ListenHandler) -> Callable[..., Awaitable[types.SubscriptionsListenResult]]:
        """`subscriptions/listen` (2026 era): the SDK's handler, with the stream's resource URIs
        watched for as long as it is open."""

        async def serve(
            ctx: ServerRequestContext[Any, Any], params: types.SubscriptionsListenRequestParams
        ) -> types.SubscriptionsListenResult:
            wanted = list(dict.fromkeys(params.notifications.resource_subscriptions or ()))
            uris = [uri for uri in wanted if self.readable is None or await self.readable(uri)]
            if len(uris) != len(wanted):  # not honored (the ack says so), so another stream's change never reaches it
                notifications = params.notifications.model_copy(update={"resource_subscriptions": uris or None})
                params = params.model_copy(update={"notifications": notifications})
            for uri in uris:
                self._listening[uri] += 1
                self._seen.setdefault(uri, None)
            await self._prime(uris)
            try:
                return await handler(ctx, params)
            finally:
                for uri in uris:
                    self._listening[uri] -= 1
                    self._forget_if_unwatched(uri)

        return serve

    async def prime(self, uri: str) -> None:
        """Take the current version as the baseline (a subscriber hears of later changes only)."""
        await self._prime([uri])

    async def _prime(self, uris: list[str]) -> None:
        for uri in uris:
            if self._seen.get(uri) is None:
                self._seen[uri] = await self.fingerprint(uri, None)

    async def watch(self) -> None:
        """Poll the subscribed URIs until cancelled; notify each change once."""
        while True:
            await anyio.sleep(self.interval)
            for uri in list(self._seen):
                try:
                    now = await self.fingerprint(uri, self._seen.get(uri))
                except Exception as exc:  # a store hiccup must not end the watching
                    log.debug("fingerprint of %s failed: %r", uri, exc)
                    continue
                if uri not in self._seen or now == self._seen[uri]:
                    continue
                self._seen[uri] = now
                await self._notify(uri)

    async def _notify(self, uri: str) -> None:
        if self._listening[uri]:
            await self.bus.publish(ResourceUpdated(uri=uri))
        for connection, session in list(self._legacy.get(uri, {}).items()):
            try:
                with anyio.fail_after(2.0):
                    await session.send_resource_updated(uri)
            except Exception as exc:  # a dead connection: stop telling it
                log.debug("resources/updated to %s failed (%r); dropping its subscriptions", connection, exc)
                self.forget_connection(connection)
