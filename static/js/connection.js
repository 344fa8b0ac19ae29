/**
 * The Socket.IO connection: keeps the store's seq in step with the server. A gap in seq, a
 * `heartbeat` naming a seq ahead of ours (a batch was lost, e.g. while the web node's Redis
 * listener resubscribed, and the floor has been quiet since), or any reconnect, sends
 * `resync` {seq}; batches that arrive while a resync is pending are held and replayed after
 * the answer, so nothing is applied out of order.
 */

const RESYNC_RETRY_MS = 5000;

/**
 * handlers: onSnapshot(snapshot), onPresence(changes, seq), onProviders(update),
 * onState("connecting" | "live" | "reconnecting"). getSeq() returns the current seq.
 */
export function connect({ getSeq, onSnapshot, onPresence, onProviders, onState, io = window.io }) {
  const socket = io();
  let connectedBefore = false;
  let resyncPending = false;
  let resyncTimer = 0;
  let held = [];

  function requestResync() {
    resyncPending = true;
    socket.emit("resync", { seq: getSeq() });
    clearTimeout(resyncTimer);
    // An answer lost with a dropped connection is covered by the reconnect resync; this
    // covers a server that simply never answered.
    resyncTimer = setTimeout(() => {
      if (resyncPending && socket.connected) requestResync();
    }, RESYNC_RETRY_MS);
  }

  function resyncDone() {
    resyncPending = false;
    clearTimeout(resyncTimer);
    const batches = held.sort((a, b) => a.seq - b.seq);
    held = [];
    for (const batch of batches) onBatch(batch);
  }

  function onBatch(batch) {
    const current = getSeq();
    if (!batch || !Number.isInteger(batch.seq)) return;
    if (batch.resync) {
      if (batch.seq >= current) onPresence(batch.changes || [], batch.seq);
      resyncDone();
      return;
    }
    if (resyncPending) {
      held.push(batch);
      return;
    }
    if (batch.seq <= current) return; // already seen (e.g. covered by a snapshot)
    if (batch.seq !== current + 1) {
      held.push(batch);
      requestResync();
      return;
    }
    onPresence(batch.changes || [], batch.seq);
  }

  socket.on("connect", () => {
    onState("live");
    if (connectedBefore) requestResync();
    connectedBefore = true;
  });
  socket.on("disconnect", (reason) => {
    onState("reconnecting");
    // The client only retries by itself when the server did not close the socket on purpose.
    if (reason === "io server disconnect") setTimeout(() => socket.connect(), 1000);
  });
  socket.on("connect_error", () => onState("reconnecting"));
  socket.on("snapshot", (snapshot) => {
    onSnapshot(snapshot);
    if (resyncPending) resyncDone();
  });
  socket.on("presence", onBatch);
  socket.on("heartbeat", (beat) => {
    if (!beat || !Number.isInteger(beat.seq) || resyncPending) return;
    if (beat.seq > getSeq()) requestResync();
  });
  socket.on("providers", (update) => onProviders(update));
  socket.on("error", (err) => console.warn("presence-dash server error:", err));

  onState("connecting");
  return socket;
}
