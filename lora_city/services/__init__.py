"""Business operations shared by the HTTP API, the CLI, and later the gRPC API and the portal.

Every function takes a SQLAlchemy ``Session`` and the acting ``Principal`` (who may do what, on which tenant),
raises the product's error tree (``lora_city.errors``) and never knows about HTTP. Write operations commit
their own unit of work.
"""
