/**
 * "Data as of 14:05:12 · 2 s ago": the server's time of the last snapshot or presence batch
 * applied (their `server_time`), or of a `heartbeat` that says nothing changed since (its
 * seq is the one on the screen), and its age on the server's clock. The big clock is the
 * browser's time and says nothing about how fresh the people on the screen are.
 */

import { serverNow } from "./timefmt.js";

const OLD_AFTER_MS = 60000;

function ageText(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ago`;
  return `${Math.floor(m / 60)} h ${m % 60} min ago`;
}

export function initAsOf({ socket, node }) {
  if (!node) return { set() {} };
  const timeNode = node.querySelector(".as-of-time");
  const ageNode = node.querySelector(".as-of-age");
  let asOf = Date.parse(node.dataset.serverTime || "");

  function render() {
    if (Number.isNaN(asOf)) return;
    const d = new Date(asOf);
    const clock = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
    if (timeNode.textContent !== clock) {
      timeNode.textContent = clock;
      timeNode.dateTime = d.toISOString();
    }
    const age = serverNow() - asOf;
    const text = ` · ${ageText(age)}`;
    if (ageNode.textContent !== text) ageNode.textContent = text;
    const old = age > OLD_AFTER_MS ? "true" : "false";
    if (node.dataset.old !== old) node.dataset.old = old;
  }

  function set(iso) {
    const t = Date.parse(iso || "");
    if (Number.isNaN(t) || (!Number.isNaN(asOf) && t < asOf)) return;
    asOf = t;
    render();
  }

  let seq = -1; // the newest seq on the screen, as far as this module can tell
  function seen(body) {
    if (body && Number.isInteger(body.seq) && body.seq > seq) seq = body.seq;
  }

  socket.on("snapshot", (snap) => {
    seen(snap);
    set(snap && snap.server_time);
  });
  socket.on("presence", (batch) => {
    seen(batch);
    set(batch && batch.server_time);
  });
  // A heartbeat ahead of the screen means a lost batch: the resync it starts brings the time.
  socket.on("heartbeat", (beat) => {
    if (beat && Number.isInteger(beat.seq) && beat.seq <= seq) set(beat.server_time);
  });
  render();
  setInterval(render, 1000);
  return { set };
}
