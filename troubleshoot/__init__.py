"""The troubleshoot agent: diagnoses failed runs (rules, then Ollama, then OpenAI when unsure).

Modules, one idea each: `categories` (the closed set of answers), `diagnosis` (the answer's
shapes), `redaction` (secrets out before anything leaves the process), `signal` (what a failure
looked like), `rules` (the deterministic tier), `tiers` (the model tiers and their prompt),
`cascade` (the policy and the confidence formula), `settings` (the knobs and their precedence),
`hook` (the engine's failure hook), `ondemand` (diagnose a stored execution), `agent` (the catalog
playbook's entry point), `eval` (the evaluation harness). See docs/troubleshoot.md.
"""
