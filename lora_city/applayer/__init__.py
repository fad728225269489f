"""The network server's side of the LoRa Alliance application-layer packages (TS003 clock synchronisation on
FPort 202, TS005 remote multicast setup on 200, TS004 fragmentation on 201) for devices whose profile enables them:
decoding their uplinks instead of the device codec, answering the clock, and handing multicast and fragmentation
answers to the firmware-update campaigns (lora_city/fuota). The wire format lives in lora_city/lorawan/applayer."""
