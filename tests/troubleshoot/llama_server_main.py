"""`python -m llama_cpp.server` with llama.cpp's extra CPU buffer types turned off.

Why: on some VMs llama.cpp's AMX kernels crash the process on the first completion (a general
protection fault in `ggml_backend_amx_mul_mat`). They are reached only through the CPU backend's
"extra" buffer types (weights repacked for AMX and friends), which `llama_model_params.use_extra_bufts`
switches; llama-cpp-python's server has no flag for it, so this wraps the default model params
before the server loads the model. Where the field does not exist (an older llama.cpp) nothing
changes. Arguments are the server's own.

It also registers the chat format `gemma3`: Gemma 3's own prompt format, in which the system
prompt opens the first user turn. llama-cpp-python's `gemma` format (written for Gemma 1) drops
system messages without a word, and the 270M GGUF carries no chat template of its own, so with
`--chat_format gemma` the model never sees the instructions, the categories or the schema.
"""

from __future__ import annotations

import runpy
import sys
from typing import Any


def register_gemma3() -> None:
    """`--chat_format gemma3`: turns as Gemma 3's template writes them, the system prompt (if any)
    at the head of the first user turn, then the model's turn opened."""
    from llama_cpp import llama_chat_format as formats

    @formats.register_chat_format("gemma3")
    def format_gemma3(messages: list[dict[str, Any]], **_: Any) -> Any:
        system = "\n\n".join(str(m.get("content") or "") for m in messages if m["role"] == "system")
        turns = []
        for message in messages:
            if message["role"] == "system":
                continue
            text = str(message.get("content") or "")
            role = "model" if message["role"] == "assistant" else "user"
            if system and role == "user":
                text, system = f"{system}\n\n{text}", ""
            turns.append(f"<start_of_turn>{role}\n{text}<end_of_turn>\n")
        prompt = "".join(turns) + "<start_of_turn>model\n"
        return formats.ChatFormatterResponse(prompt=prompt, stop="<end_of_turn>")


def main() -> None:
    import llama_cpp.llama_cpp as native

    original = native.llama_model_default_params

    def without_extra_buffer_types():  # type: ignore[no-untyped-def]
        params = original()
        if any(name == "use_extra_bufts" for name, *_ in getattr(params, "_fields_", [])):
            params.use_extra_bufts = False
        return params

    native.llama_model_default_params = without_extra_buffer_types
    import llama_cpp.llama as llama_module

    if hasattr(llama_module, "llama_cpp"):  # the Llama class calls it through its module alias
        llama_module.llama_cpp.llama_model_default_params = without_extra_buffer_types
    register_gemma3()
    sys.argv[0] = "llama_cpp.server"
    runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
