"""Scale-out: several ``lora-city serve`` processes share the gateways (MQTT ``$share/<group>/`` subscriptions).

Design: partitioning, with a Redis FCnt high-water mark for failover (issue 9 item 2).

* ``ownership``  each member owns the devices whose DevAddr (data) or DevEUI (join-request) hashes highest
  for it (rendezvous hashing over the live members);
* ``router``     a gateway copy received by a member that does not own the device is forwarded over MQTT to
  the owner, so one process sees every copy: dedup, FCnt and DevNonce state stay in that process's memory
  exactly as with one server (no round trip on the data path); on a membership change the new owner reloads
  the device's sessions (database + high-water mark) before its first frame, and copies forwarded to a member
  that died are routed again;
* ``membership`` retained presence messages with a Last Will: a SIGKILLed member is gone within milliseconds;
* ``high_water`` every accepted uplink raises ``fcnt:<session>`` in Redis (Lua SET-if-greater, batched off the
  data path), so the unflushed counters of a dead member never let a replay through;
* ``forwarding`` the internal topics; ``node`` builds it all from Settings for the composition root.

Why not shared state in Redis as ChirpStack does: bench/cluster.py, same run, same traffic (3 copies per uplink,
2 members, 200 ms window, 2 shared and busy cores), coordination only, CPU µs per uplink of members + broker +
redis (members alone), p99 latency:

    rate        single (1 process)       partition (chosen)       Redis shared state
    150/s       504 (396)   206 ms       1513 (1288)  206 ms      2720 (2412)  249 ms
    400/s       275 (225)   206 ms        795 (688)   205 ms      2129 (1904)  318 ms
    1000/s      187 (151)   235 ms        606 (514)   219 ms      5939 (5448)  5 s, 915 of 5000 handled

Each Redis round trip costs ~100-200 µs of redis-py CPU per copy, and the uplink waits for them; partitioning
pays one MQTT hop for the copies that land on a non-owner ((N-1)/N of them) and keeps latency at the
single-process figure. Its price is the hand-over on membership changes (a reload per moved device).
"""
