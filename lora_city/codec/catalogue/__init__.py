"""The device catalogue: a checkout in the LoRaWAN device repository format (vendor/index.yaml, device, profile
and codec YAML, JavaScript files) read (``repository``), its codecs' documented examples run (``examples``),
stored with versions (``store``, tables in ``lora_city.storage.models.catalogue``) by ``importer``, and served to
the registry (``source``) so a device or profile can name ``vendor/codec`` (latest) or ``vendor/codec@N``."""
