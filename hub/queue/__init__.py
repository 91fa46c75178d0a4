"""The cluster's work queue on NATS JetStream, and the `agenthub worker` loop.

A front end records an execution and publishes it (`dispatch`); workers pull it from a durable
consumer with explicit acks and run it with the same engine (`worker`); step events and the final
envelope travel back on per-execution subjects, cancels and catalog changes on shared ones
(`subjects`). It may import `hub.contract`, `hub.engine`, `hub.store` and `catalog/`.
"""
