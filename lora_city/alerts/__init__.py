"""Alerts for the city's services: rules on normalised measurements (``rules``), the pure evaluation engine
(``engine``), the stored lifecycle with audit and escalation (``service``), the supervision feed (``feed``) and
the open-data export (``opendata``). The engine is a Sink-side consumer: it reads UplinkEvents, never the radio.
"""
