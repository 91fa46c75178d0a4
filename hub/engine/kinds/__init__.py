"""Step kinds that live inside the engine (`noop`, `playbook`) and the registry of all kinds."""
