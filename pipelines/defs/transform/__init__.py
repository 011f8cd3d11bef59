"""Transformation: the dbt project in dbt/ as Dagster assets, downstream of the raw tables."""
