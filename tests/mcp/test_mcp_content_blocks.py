"""Content blocks a playbook returns reach the client as MCP content (image, audio, embedded
resource, mixed), through the official client; anything else under `content` stays plain data."""

from __future__ import annotations

import base64

from mcp import Client, types

from hub.mcp.server import HubMcpServer

PIXEL = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de"
    "0000000c4944415408d763f8cfc000000301010018dd8db00000000049454e44ae426082"
)).decode()

MEDIA = f"""
apiVersion: agenthub/v1
kind: Playbook
metadata: {{name: media, description: "Returns an image, a sound and a resource."}}
workflow:
  - step: make
    tool: {{kind: noop}}
    result:
      caption: a red pixel
      content:
        - {{type: text, text: "Here is a red pixel."}}
        - {{type: image, data: "{PIXEL}", mimeType: image/png}}
        - {{type: audio, data: "UklGRg==", mimeType: audio/wav}}
        - type: resource
          resource: {{uri: "agenthub://examples/pixel.json", mimeType: application/json, text: '{{"red": 255}}'}}
"""

PLAIN = """
apiVersion: agenthub/v1
kind: Playbook
metadata: {name: plain, description: Has a content field that is not content blocks.}
workflow:
  - step: make
    tool: {kind: noop}
    result: {content: [{type: paragraph, text: not a block}], summary: hi}
"""


async def test_a_playbook_result_carries_image_audio_and_resource_blocks(hub, write_playbook):
    write_playbook("media", MEDIA)
    write_playbook("plain", PLAIN)
    async with Client(HubMcpServer(await hub()).server) as client:
        result = await client.call_tool("media", {})
        assert result.is_error is False
        text, image, audio, resource, summary = result.content
        assert isinstance(summary, types.TextContent) and summary.text.startswith("ok: media")
        assert isinstance(text, types.TextContent) and text.text == "Here is a red pixel."
        assert isinstance(image, types.ImageContent) and image.mime_type == "image/png" and image.data == PIXEL
        assert isinstance(audio, types.AudioContent) and audio.mime_type == "audio/wav"
        assert isinstance(resource, types.EmbeddedResource)
        assert isinstance(resource.resource, types.TextResourceContents) and resource.resource.text == '{"red": 255}'
        assert result.structured_content["data"]["caption"] == "a red pixel"

        plain = await client.call_tool("plain", {})
        assert [block.type for block in plain.content] == ["text"]
        assert plain.structured_content["data"]["content"] == [{"type": "paragraph", "text": "not a block"}]
