"""The MQTT bus: topic names, message payloads and the client every unit uses."""
