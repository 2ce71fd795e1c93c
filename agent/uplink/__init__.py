"""Getting events from the outbox to the county collector: MQTT uplink, heartbeats, test-mode printer."""
