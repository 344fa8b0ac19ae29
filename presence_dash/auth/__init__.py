"""Sign-in, roles, kiosk tokens and the audit log (docs/security.md).

Who a request is (`identity`), what each route and Socket.IO event needs (`policy`), how
people sign in (`local`, `header`, `none` in `modes`), read-only wall tokens (`kiosk`) and
the append-only record of actions (`audit`) are separate modules; `web/auth_routes.py` and
`gate.py` put them on the app.
"""
