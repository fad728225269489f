"""Gateway connectors: MQTT (ChirpStack gateway protobuf / JSON) and Semtech UDP, both producing ``frames`` types.

- ``frames``: the wire-format-free types and the GatewayEvents / GatewayBackend protocols (the contract)
- ``mqtt_backend.MqttGatewayBackend`` and ``chirpstack``: ChirpStack gw messages over MQTT
- ``udp_backend.UdpGatewayBackend`` and ``semtech``: the Semtech UDP packet forwarder (PROTOCOL.TXT v2)
- ``health.GatewayHealth``: online/offline, last seen and counters per gateway
- ``bad_input``: counting and rate-limited logging of rejected gateway input
"""
