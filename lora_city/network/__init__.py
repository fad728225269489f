"""The network server object: implements GatewayEvents and wires dedup, pipeline, downlinks and sessions."""
