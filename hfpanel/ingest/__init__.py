"""``hfpanel ingest``: broker -> durable spool -> store, exactly once (docs/transfers.md)."""
