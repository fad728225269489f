"""Moving an existing network into lora_city (``lora-city import chirpstack``)."""
