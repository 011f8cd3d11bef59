"""Ingestion: the landing zone into the raw and audit layers of the warehouse."""
