"""The websocket hub: feeds that tail Redis streams, topics, connections, fan-out."""
