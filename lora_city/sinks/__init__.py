"""Sinks: where handled uplinks and device events go (InfluxDB, embedded store, integrations, billing meter)."""
