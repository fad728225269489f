"""The pure LoRaWAN protocol layer: no I/O, no database, no settings.

Module index:

- :mod:`~lora_city.lorawan.errors`: ``LoRaWANError``, the one exception for all malformed input.
- :mod:`~lora_city.lorawan.frames`: ``MType``, the frame dataclasses and ``parse_phy_payload`` / ``to_bytes``.
- :mod:`~lora_city.lorawan.crypto`: MICs (1.0 and 1.1), FRMPayload and FOpts encryption, join-accept encryption.
- :mod:`~lora_city.lorawan.keys`: session-key derivation (1.0, 1.1) and join-server keys.
- :mod:`~lora_city.lorawan.fcnt`: ``full_f_cnt``, the 32-bit counter from the 16-bit wire value.
- :mod:`~lora_city.lorawan.mac`: ``MacCommand``, ``parse_mac_commands`` / ``encode_mac_commands`` (1.0.4 and 1.1).
- :mod:`~lora_city.lorawan.region`: the ``Region`` protocol, ``EU868``, ``CFList``.
- :mod:`~lora_city.lorawan.airtime`: ``time_on_air`` (Semtech AN1200.13) and ``fsk_time_on_air``.
- :mod:`~lora_city.lorawan.tr005`: ``QRCode`` / ``parse_qr`` for TR005 device-identification QR codes.
- :mod:`~lora_city.lorawan.describe` / :mod:`~lora_city.lorawan.compose`: a frame as JSON and back, with
  decryption and MIC checks (what ``lora-city frame decode|encode`` prints and reads).

Per uplink the network server calls ``parse_phy_payload`` → ``fcnt.full_f_cnt`` → ``crypto.data_mic_10`` (or
``data_uplink_mic_11``) → ``crypto.encrypt_frm_payload``; keyed AES objects are cached per thread, so this costs
about 10 µs (``bench/frames.py``).
"""
