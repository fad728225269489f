"""A ChirpStack v4-compatible gRPC API (``chirpstack_api.api``) over lora_city's services.

Scripts written against ChirpStack keep working: same services and messages, the same ``authorization:
Bearer <token>`` metadata and the same status codes. Fields lora_city does not support are accepted and
named in the trailing metadata ``x-lora-city-ignored-fields`` (and logged); keys lora_city never returns are
named in ``x-lora-city-withheld-fields``.
"""

from lora_city.grpc_api.server import GrpcApi, start_grpc_server

__all__ = ["GrpcApi", "start_grpc_server"]
