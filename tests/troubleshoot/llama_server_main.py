"""`python -m llama_cpp.server` with llama.cpp's extra CPU buffer types turned off.

Why: on some VMs llama.cpp's AMX kernels crash the process on the first completion (a general
protection fault in `ggml_backend_amx_mul_mat`). They are reached only through the CPU backend's
"extra" buffer types (weights repacked for AMX and friends), which `llama_model_params.use_extra_bufts`
switches; llama-cpp-python's server has no flag for it, so this wraps the default model params
before the server loads the model. Where the field does not exist (an older llama.cpp) nothing
changes. Arguments are the server's own.
"""

from __future__ import annotations

import runpy
import sys


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
    sys.argv[0] = "llama_cpp.server"
    runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
