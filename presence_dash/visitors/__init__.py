"""Web-site visitors, a feature beside the presence board (like screenmeet/): `feature` (what
the app factory builds: board, push, listing, signal log), `source` (the typed interface of the
provider that sees the visitors: Glance, `providers/glance/`), `board` (who is on the site,
pure), `actions` (validating a co-browse or signal request), `store` (each signal recorded
before it is sent, with the shared idempotency keys), `push` (the `visitors` event), `listing`
(the list from the board, or from Redis on a web node), `wire` (our JSON). web/visitors_api.py
serves it. This module imports nothing: the source's provider imports `visitors.board`."""
