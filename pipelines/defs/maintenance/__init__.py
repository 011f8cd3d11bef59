"""Warehouse upkeep that no asset owns: the nightly compaction."""
