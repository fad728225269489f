"""Sinks: where handled uplinks and device events go (InfluxDB, embedded store, integrations, billing meter).

Shape. The network server calls ``SinkHub.submit(event)`` for every event of ``events.py``. The hub hands it to
each sink; ``submit`` only formats or enqueues (microseconds) and never blocks or raises into the radio side.
Each sink does its I/O on its own thread or task from its own bounded queue, so one slow or failing sink never
holds up another (``hub.py``). Build them all with ``build.build_sinks(settings, session_factory, metrics, …)``.

- ``store.ReadingStoreSink``: readings (one row per uplink, ``uplink_id`` unique, inserted with ON CONFLICT DO
  NOTHING, so a replay is a no-op) and events rows, in batched transactions on its own thread. Always on.
- ``influx.InfluxSink``: hand-formatted line protocol (``line_protocol.py``), written in batches of up to 5,000
  lines with influxdb-client's synchronous v2 write API from a writer thread.
- ``integration_sink.IntegrationSink``: each tenant's integrations, configured through the API: its webhooks
  (``webhooks.py``, HMAC-SHA256 signed) and its own MQTT broker (``tenant_mqtt.py``), delivered through the
  outbox with per-integration backoff; every attempt in the delivery log (``deliveries.py``). A change of an
  integration applies to the next event in every process (``integrations.py``: configuration generation).
- ``mqtt_integration.MqttIntegrationSink``: every event on the product's own broker, ChirpStack v4 topics and
  JSON (``chirpstack_json.py``); each tenant reads only its applications' topics there (``broker_acl.py``).
- ``retention.py`` (per tenant and family, periodic purge) and ``erasure.py`` (GDPR, every store).

Durability: nothing lost, nothing counted twice.
1. Journal first. InfluxDB and integration deliveries go through ``pump.OutboxPump``: every 50 ms its thread
   commits what was submitted to the ``outbox`` table (one row per turn for InfluxDB lines, one per event and
   integration), and only then sends it; a row is deleted once the target said yes. So an outage of any length
   costs nothing: rows wait and are replayed oldest first, per target, with backoff, when it is back.
2. Idempotent replays. A point's timestamp is the uplink's time and its tags and fields come from the event
   alone, so a replayed line is the same point; InfluxDB overwrites it. Rows are deleted only after success, so
   in an outage nothing is sent twice; only a crash between "target accepted" and "row deleted" resends that
   one batch (victoria-metrics, unlike InfluxDB, keeps such duplicates: at most one batch of them).
3. Crash window. What a SIGKILL can lose is what sat in memory for less than one journal interval (50 ms for
   the pumps, 200 ms for the store); everything committed survives and is replayed by the next process
   (tests/integration/sinks/test_kill.py). A caller that must not acknowledge an event before it is durable
   (a confirmed uplink, say) awaits ``SinkHub.durable()``, which makes every durable sink commit now and
   returns when all of them did. Making every ``submit`` wait for a commit would put a database write on the
   radio side's path for every frame; this way only the callers that need it pay for it.
4. Order. One thread writes a target's rows, so ``id`` order is commit order, and rows are sent in ``id``
   order. While the pump holds all of a target's rows in memory (the usual case) it sends from that mirror
   instead of reading them back.
"""
