"""Dagster definitions, one folder per part of the platform, each split by kind."""
