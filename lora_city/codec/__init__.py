"""Codec runtime: finds a device's codec and turns bytes into named measurements with units (and back)."""
