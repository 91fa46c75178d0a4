"""NoETL v2 playbooks (written here from NoETL's documented forms) load unchanged and run end to
end: routing and arc `set`, loops with `iter`, pipelines with `_prev`, the python contract, Jinja in
code bound as data, workbook tasks, `vars` and `case`, policy rules, failure arcs and admission."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

HERE = Path(__file__).parent / "playbooks"


@pytest.fixture
def noetl_catalog(catalog_dir: Path) -> Path:
    for file in HERE.rglob("*.yaml"):
        target = catalog_dir / file.relative_to(HERE)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(file, target)
    return catalog_dir


async def test_every_fixture_loads(hub, noetl_catalog):
    h = await hub()
    assert {p: [str(x) for x in ps] for p, ps in h.catalog.problems.items() if ps} == {}
    router = h.catalog.get("noetl/router")
    assert router is not None and router.playbook.entry == "begin"
    meta = router.playbook.metadata
    assert (meta.expose, meta.version, meta.labels, meta.extra) == (False, "2", {"team": "probes"}, {"exposed_in_ui": True})
    assert router.playbook.extensions["executor"]["profile"] == "local"


async def test_exclusive_router_arc_set_and_toolless_end(hub, noetl_catalog):
    h = await hub()
    env = await h.engine.run("noetl/router")
    assert env.ok, env.error
    assert env.data == {"band": "high", "double": 14}  # the toolless `end` passes the last output on
    low = await h.engine.run("noetl/router", {"level": 1})
    assert low.data == {"band": "low"}


async def test_inclusive_fanout_parallel_loop_with_iter_and_ctx(hub, noetl_catalog):
    h = await hub()
    env = await h.engine.run("noetl/fanout")
    assert env.ok, env.error
    await h.store.flush()
    events = await h.store.events(env.execution_id)
    outputs = {e.step: e.data.get("output") for e in events if e.type == "step.finished" and "iteration" not in e.data}
    assert outputs["count"] == 3
    looped = sorted((e.data["output"] for e in events if e.type == "step.finished" and e.step == "square-all"),
                    key=lambda o: o["at"])
    assert looped == [{"sq": 1, "at": 0}, {"sq": 4, "at": 1}, {"sq": 9, "at": 2}]


async def test_pipeline_keeps_the_url_query_and_passes_prev(hub, noetl_catalog, http_server):
    http_server.script("/items", (200, {"items": [{"name": "a"}, {"name": "b"}]}))
    h = await hub()
    env = await h.engine.run("noetl/pipeline", {"base": http_server.url})
    assert env.ok, env.error
    assert env.data == {"names": ["a", "b"], "code": 200}
    [hit] = http_server.hits("/items")
    assert hit["path"] == "/items?page=1&size=2"  # the query written in the url is kept


async def test_python_contract_libs_and_jinja_bound_as_data(hub, noetl_catalog):
    h = await hub()
    env = await h.engine.run("noetl/python", {"who": "x\" + __import__('os').getcwd() + \""})
    assert env.ok, env.error
    assert env.data["who"] == "x\" + __import__('os').getcwd() + \""  # a value, never code
    assert env.data["greet"] == "hi x\" + __import__('os').getcwd() + \"!"
    assert (env.data["next"], env.data["pi"], env.data["text"]) == (5, 3.14, '{"k": 1}')


async def test_workbook_task_vars_and_legacy_case(hub, noetl_catalog):
    h = await hub()
    big = await h.engine.run("noetl/workbook")
    assert big.ok, big.error
    assert big.data == {"size": "big", "total": 7}
    small = await h.engine.run("noetl/workbook", {"a": 1, "b": 1})
    assert small.data == {"size": "small", "total": 2}


async def test_policy_retry_continue_failure_arc_and_admit(hub, noetl_catalog, http_server):
    http_server.script("/flaky", (503, {"e": 1}), (200, {"data": "fresh"}))
    http_server.script("/broken", (500, {"e": "down"}))
    h = await hub()
    env = await h.engine.run("noetl/failures", {"base": http_server.url})
    assert env.ok, env.error
    assert env.data == {"recovered": "HTTP_STATUS_500", "flaky": "fresh", "fine_ran": False, "job": True}
    assert len(http_server.hits("/flaky")) == 2
    assert len(http_server.hits("/broken")) == 3  # the http kind retries a 500 before the failure arc routes it


async def test_policy_continue_keeps_the_error_readable(hub, noetl_catalog, http_server):
    http_server.script("/flaky", (404, {"e": "gone"}))
    http_server.script("/broken", (200, {"ok": True}))
    h = await hub()
    env = await h.engine.run("noetl/failures", {"base": http_server.url})
    assert env.ok, env.error
    assert env.data == "fine"  # /broken answered: the unconditional arc ran, recover did not
    await h.store.flush()
    events = await h.store.events(env.execution_id)
    finished = {e.step: e.data.get("output") for e in events if e.type == "step.finished"}
    assert finished["start"]["status"] == "error" and finished["start"]["error"]["code"] == "HTTP_STATUS_404"


async def test_file_relative_child_return_step_http_body_retry_and_hyphen_names(hub, noetl_catalog, http_server):
    http_server.script("/builds", (409, {"busy": True}), (201, {"id": "b-7"}))
    h = await hub()
    child = await h.engine.run("noetl/ops/build_child", {"base": http_server.url})
    assert child.ok, child.error
    assert child.data == {"summary": "passed for b-7", "stamped": True}
    hits = http_server.hits("/builds")
    assert len(hits) == 2  # tool.retry: 409 is in retry_on_status
    assert json.loads(hits[0]["body"]) == {"target": "app", "flags": ["fast"]}  # body: a mapping, sent as JSON
    parent = await h.engine.run("noetl/ops/build_parent", {"base": http_server.url})
    assert parent.ok, parent.error
    # return_step: the child's run-tests output; output_select kept two keys of the http answer
    assert parent.data == {"tests": "passed", "build": "b-7", "kept": ["data", "status_code"]}
    assert json.loads(http_server.hits("/builds")[-1]["body"])["target"] == "web"


async def test_conditional_arc_with_then_targets_and_http_auth(hub, noetl_catalog, http_server, monkeypatch):
    monkeypatch.setenv("ND_TEST_API_TOKEN", "tok-0123456789")
    http_server.script("/secure", (200, {"ok": True}))
    h = await hub()
    env = await h.engine.run("noetl/auth", {"base": http_server.url})
    assert env.ok, env.error
    assert env.data["data"] == {"ok": True}
    assert http_server.hits("/secure")[0]["headers"]["Authorization"] == "Bearer tok-0123456789"
    adc = await h.engine.run("noetl/auth", {"base": http_server.url, "mode": "adc"})
    assert adc.error is not None and adc.error.code == "STEP_CONFIG_INVALID"
    assert "http auth from 'adc' is not available" in adc.error.message and "keychain" in adc.error.message
    assert len(http_server.hits("/secure")) == 1  # nothing was sent without credentials


async def test_a_call_error_arc_routes_the_failure_and_writes_its_set(hub, noetl_catalog, http_server):
    http_server.script("/gone", (404, {"e": "gone"}))
    h = await hub()
    env = await h.engine.run("noetl/on_error", {"base": http_server.url})
    assert env.ok, env.error
    assert env.data == {"fell_back": "HTTP_STATUS_404", "start_status": "error"}
    http_server.script("/gone", (200, {"ok": True}))
    assert (await h.engine.run("noetl/on_error", {"base": http_server.url})).data == "done"
