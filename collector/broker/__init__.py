"""Brokers: the shipped Mosquitto configuration, the embedded amqtt broker, per-store credentials."""
