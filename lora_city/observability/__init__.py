"""Logs, health and metrics endpoints' helpers."""
