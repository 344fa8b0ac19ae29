/** Start-up shared by both pages: store from the embedded snapshot, renderer, socket, ticker. */

import { connect } from "./connection.js";
import { showConnectionState } from "./health.js";
import { Renderer } from "./render.js";
import { PresenceStore } from "./store.js";
import { startSinceTicker, syncServerClock } from "./timefmt.js";

function initialSnapshot() {
  const block = document.getElementById("initial-snapshot");
  try {
    return JSON.parse(block.textContent);
  } catch (err) {
    console.error("presence-dash: unreadable initial snapshot", err);
    return { seq: 0, people: [], providers: {} };
  }
}

/**
 * Wire a page up. options: view, sincePrefixes ({exact, inexact}, see timefmt.js
 * sinceElementText), teamFilter, onFrame, onTeamAdded (see Renderer), onSnapshot(snapshot)
 * after the socket's snapshot is in the store (its cards are built in the next frame).
 * Returns {store, renderer, socket, initial}: `initial` is the embedded snapshot, which
 * carries only the people the page rendered when it says `partial` (of `total`).
 */
export function boot({
  view,
  sincePrefixes,
  teamFilter = null,
  onFrame,
  onTeamAdded,
  onSnapshot = () => {},
}) {
  const accept = teamFilter ? (person) => person.team === teamFilter : undefined;
  const store = new PresenceStore({ accept });
  const snapshot = initialSnapshot();
  syncServerClock(snapshot.server_time);
  store.applySnapshot(snapshot);

  const root = document.getElementById("people");
  const renderer = new Renderer({ root, store, view, sincePrefixes, onFrame, onTeamAdded });
  startSinceTicker(() => renderer.sinceElements(), sincePrefixes);
  renderer.markProviders(); // first pass: banners and strip from the embedded snapshot

  const socket = connect({
    getSeq: () => store.seq,
    onSnapshot(snap) {
      syncServerClock(snap.server_time);
      const { changed, removed } = store.applySnapshot(snap);
      renderer.markRemoved(removed);
      renderer.markChanged(changed);
      renderer.markProviders();
      onSnapshot(snap);
    },
    onPresence(changes, seq) {
      renderer.markChanged(store.applyChanges(changes, seq));
    },
    onProviders(update) {
      store.mergeProviders(update);
      renderer.markProviders();
    },
    onState: showConnectionState,
  });
  return { store, renderer, socket, initial: snapshot };
}
