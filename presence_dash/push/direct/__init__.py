"""Broadcasts framed once and written straight to every idle websocket (issue 13 item 3).

python-engineio hands every packet to a per-client queue drained by that client's writer
task, which frames it and writes it: per client and batch one queue put (a timer to wake the
writer), one task switch, one get and one frame built from the same text. With 1,000 clients
that hop was most of the server's CPU (docs/benchmarks.md, "Steady fan-out: frame once").
Here a `presence` batch is framed once and written, without blocking, to each upgraded
websocket whose queue is empty and whose writer is idle; anyone else gets it through
engine.io's queue as before, so a client's packets never change order.

- `frame.py`: the WebSocket text frame and the queue item that carries one (pure);
- `eventlet_ws.py`, `simple_ws.py`: the two transports' write primitives, found by duck
  typing (only launch.py imports eventlet or gevent);
- `gate.py`: stands between engine.io's writer and the websocket, so it knows when the
  writer is idle and may be bypassed;
- `broadcast.py`: installs the gates into engine.io and sends a batch to everyone.
"""

from presence_dash.push.direct.broadcast import DirectPush, emitter_for

__all__ = ["DirectPush", "emitter_for"]
