"""`secrets`: a secret read as a step is usable by the next steps and masked in everything stored
or answered (events, execution record, envelope); names of env/file secrets cannot come from callers."""

from __future__ import annotations

import json
import secrets

from tests.kinds.kinds_support import run, stored_text


def _playbook(name: str, tool: str) -> str:
    return f"""
        apiVersion: noetl.io/v2
        kind: Playbook
        metadata: {{name: {name}}}
        keychain:
          - {{name: api_token, env: AH_TEST_TOKEN}}
        workflow:
          - step: read
            tool: {tool}
            next: [{{step: use}}]
          - step: use
            tool: {{kind: noop}}
            input:
              header: "Bearer {{{{ read.secret_value }}}}"
              length: "{{{{ read.secret_value | length }}}}"
        """


async def test_each_provider_reads_and_every_output_is_masked(hub, write_playbook, monkeypatch, tmp_path):
    values = {p: f"{p}-{secrets.token_hex(8)}" for p in ("keychain", "env", "file")}
    monkeypatch.setenv("AH_TEST_TOKEN", values["keychain"])
    monkeypatch.setenv("AH_TEST_OTHER", values["env"])
    (tmp_path / "secret.txt").write_text(values["file"] + "\n")
    write_playbook("by_keychain", _playbook("by_keychain", "{kind: secrets, secret_name: api_token}"))
    write_playbook("by_env", _playbook("by_env", "{kind: secrets, provider: env, secret_name: AH_TEST_OTHER}"))
    write_playbook("by_file", _playbook("by_file", f"{{kind: secrets, provider: file, secret_name: '{tmp_path / 'secret.txt'}'}}"))
    for provider, name in (("keychain", "by_keychain"), ("env", "by_env"), ("file", "by_file")):
        value = values[provider]
        envelope = await run(hub, name)
        assert envelope.status == "ok", envelope
        assert envelope.data == {"header": "Bearer ***", "length": len(value)}
        assert value not in json.dumps(envelope.to_dict())
        stored = await stored_text(hub, envelope.execution_id)
        assert value not in stored, provider
        assert '"secret_value": "***"' in stored


async def test_missing_secret_and_cloud_provider(hub, write_playbook, monkeypatch):
    monkeypatch.setenv("AH_TEST_TOKEN", "present-value")
    write_playbook("missing", _playbook("missing", "{kind: secrets, provider: env, secret_name: AH_NOT_SET_ANYWHERE}"))
    write_playbook("cloud", _playbook("cloud", "{kind: secrets, provider: google, secret_name: projects/x/secrets/y, project_id: x}"))
    missing = await run(hub, "missing")
    assert (missing.error.kind, missing.error.code) == ("agent.configuration", "SECRET_NOT_FOUND")
    assert "AH_NOT_SET_ANYWHERE" in missing.error.message
    cloud = await run(hub, "cloud")
    assert (cloud.error.kind, cloud.error.code) == ("agent.dependency", "TOOL_KIND_UNAVAILABLE")
    assert "'google'" in cloud.error.message


async def test_a_caller_cannot_choose_which_environment_variable_to_read(hub, write_playbook, monkeypatch):
    monkeypatch.setenv("AH_TEST_TOKEN", "present-value")
    monkeypatch.setenv("AH_HUB_PRIVATE", "private-" + secrets.token_hex(6))
    write_playbook("pick", """
        apiVersion: noetl.io/v2
        kind: Playbook
        metadata: {name: pick}
        workload: {which: AH_TEST_TOKEN}
        workflow:
          - step: read
            tool: {kind: secrets, provider: env, secret_name: "{{ workload.which }}"}
        """)
    envelope = await run(hub, "pick", {"which": "AH_HUB_PRIVATE"})
    assert envelope.error.code == "STEP_CONFIG_INVALID"
    assert "template" in envelope.error.message
