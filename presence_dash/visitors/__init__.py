"""Glance web-site visitors, a feature beside the presence board (like screenmeet/):
`board` (who is on the site, pure), `actions` (validating a co-browse or signal request),
`store` (each signal recorded before it is sent, with the shared idempotency keys), `push`
(the `visitors` event), `listing` (the list from the board, or from Redis on a web node),
`wire` (our JSON). The Glance client is `providers/glance/`; web/visitors_api.py serves it."""
