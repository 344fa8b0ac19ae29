"""Several web nodes and a leader/standby pair of workers on one Redis (issue 14).

`leader.py` elects the worker that runs the providers; `board_feed.py` is what that leader
writes to Redis per batch (seq, change log, snapshot, board state), fenced by its term;
`web_feed.py` is what a web node reads back for `snapshot` and `resync`; `hook_relay.py`
hands vendor callbacks from any web node to the leader; `worker.py` runs one term after
another. `feed_log.py` holds the pure logic they share.
"""
