"""The ``lora-city`` command line. ``main.app`` is the console script; each sub-command lives in its own module."""
