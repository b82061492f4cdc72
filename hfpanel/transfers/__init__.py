"""Transfer monitoring: FTS and XRootD messages from ActiveMQ into the store (docs/transfers.md)."""
