"""An independent LoRaWAN end-device and gateway emulator for flow and conformance tests.

Written from the specifications (LoRaWAN TS001-1.0.4, TS001-1.1 with its errata, RP002-1.0.4 EU868) and the
Semtech packet-forwarder protocol, WITHOUT importing ``lora_city.lorawan`` (AES and CMAC come straight from
``cryptography``): when the server and the emulator agree, two separate readings of the spec agree.

- :mod:`.crypto`: AES-128, CMAC, MICs, payload and FOpts ciphers, key derivations (1.0 and 1.1).
- :mod:`.mac`: the MAC command table (CID, lengths per direction) and field packing.
- :mod:`.device`: ``Device``: OTAA/ABP, 1.0.3 / 1.0.4 / 1.1, join and rejoin, uplinks, downlink checks.
- :mod:`.forwarder`: a Semtech UDP packet forwarder and a ChirpStack MQTT gateway (paho) that carry frames.
"""
