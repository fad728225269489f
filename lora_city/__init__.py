"""lora_city: a LoRaWAN network server and sensor manager for a city."""

__version__ = "0.1.0"
