"""MQTT ingest: pure message decoding (`decode`) and the paho-mqtt subscriber (`subscriber`)."""
