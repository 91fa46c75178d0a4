"""LLM providers (Ollama, OpenAI) behind one small contract (`bridges.llm.base`).

They are bridges because they reach outside the engine; the troubleshoot agent is their only user
today. Import the concrete providers from their modules; this package imports nothing.
"""
