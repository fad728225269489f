"""Gateway connectors: MQTT (ChirpStack gateway protobuf / JSON) and Semtech UDP, both producing ``frames`` types."""
