"""Build shim for what pyproject.toml's declarative `packages.find` cannot say: the repository's
`playbooks/` folder (the bundled catalog) goes into the wheel as `hub/bundled_playbooks/`, so an
installed `agenthub` serves it from wherever a client starts it. Everything else is in
pyproject.toml. In a source checkout the hub reads `playbooks/` directly (`hub.config`)."""

from setuptools import find_packages, setup

PROJECT = ["hub", "hub.*", "catalog", "catalog.*", "bridges", "bridges.*", "troubleshoot", "troubleshoot.*"]
DATA = ["*.yaml", "*.yml", "*.md", "*.json", "*.jsonl", "*.txt"]

setup(
    packages=[*find_packages(include=PROJECT), "hub.bundled_playbooks"],
    package_dir={"hub.bundled_playbooks": "playbooks"},
    package_data={
        "hub.bundled_playbooks": [f"**/{pattern}" for pattern in DATA] + DATA,
        "troubleshoot": ["corpus/*.jsonl"],
    },
)
