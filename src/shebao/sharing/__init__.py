"""The information-sharing platform: partner agencies exchange signed DCI/G2P-Connect-style
messages with us under ``/api/v1/sharing`` (search, subscribe/notify), and we with them
(``client.py``, ``outbound.py``). See ``service.py`` for the inbound path, ``handlers.py`` for
what each action does, ``partners.py`` for credentials."""
