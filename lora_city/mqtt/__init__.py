"""Our one MQTT adapter (gateway backend, tenant integrations, alert feed): ``MqttClient`` and ``MqttMessage``."""

from lora_city.mqtt.client import MqttClient, MqttConnectError, MqttMessage, MqttNotConnected

__all__ = ["MqttClient", "MqttConnectError", "MqttMessage", "MqttNotConnected"]
