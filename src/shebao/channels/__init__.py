"""Channels: the web app (REST API, staff back office, citizen and employer portals)."""
