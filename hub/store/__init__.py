"""The event stores behind `hub.contract.store.EventStore`.

SQLite (the embedded default: the store, its batching writer thread, schema and migrations, the
catalog version ledger, the connection helper and process ownership) and, beside it, the
PostgreSQL store of the cluster mode. It may import `hub.contract` and `catalog/` only: a store
knows records and events, never the engine that writes them or the servers that read them.
"""
