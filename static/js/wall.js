/**
 * Entry point of the wall view `/wall`: the store from the embedded first page, the socket,
 * the paged cards (wall-render.js), team tiles and flags (wall-alerts.js), page rotation,
 * "data as of", the optional chime, and the clock.
 */

import { connect } from "./connection.js";
import { buildTeamCounts, insertSorted } from "./dom.js";
import { renderStaleBanner, showConnectionState } from "./health.js";
import { PresenceStore } from "./store.js";
import { startSinceTicker, syncServerClock } from "./timefmt.js";
import { WallAlerts, buildTile } from "./wall-alerts.js";
import { initAsOf } from "./wall-asof.js";
import { initChime } from "./wall-chime.js";
import { pageRange } from "./wall-pager.js";
import { WallRenderer } from "./wall-render.js";
import { initWallVisitors } from "./wall-visitors.js";

const DEFAULT_ROTATE_S = 15;
const SINCE_PREFIXES = { exact: "", inexact: "≥" }; // short: the status line is one line

function readJson(id, fallback) {
  try {
    return JSON.parse(document.getElementById(id).textContent);
  } catch (err) {
    return fallback;
  }
}

const options = readJson("wall-options", { teams: [], view: "cards", sort: "name" });
const root = document.getElementById("people");
const summary = document.querySelector(".summary");
const staleBanner = document.getElementById("stale-banner");
const indicator = document.getElementById("page-indicator");
const wanted = new Set(options.teams || []);

const store = new PresenceStore({ accept: wanted.size ? (p) => wanted.has(p.team) : undefined });
const initial = readJson("initial-snapshot", { seq: 0, people: [], providers: {} });
syncServerClock(initial.server_time);
store.applySnapshot(initial);
// The page carries its first page of people only; the socket's snapshot brings everyone.
let complete = !initial.partial;

const chime = initChime({ enabled: !!options.sound, hint: document.getElementById("sound-hint") });
const alerts = new WallAlerts({ store, onNew: () => chime.play() });
const tiles = () => summary.querySelectorAll(".team-summary");
const tileOf = (team) => summary.querySelector(`.team-summary[data-team="${CSS.escape(team)}"]`);

/** What the wall adds to a card: an activity in the status word's place, the alert flag. */
function decorate(refs, person) {
  if (!person) return;
  const hasActivity = !!(refs.activity && refs.activity.textContent);
  if (hasActivity !== "activity" in refs.node.dataset) {
    if (hasActivity) refs.node.dataset.activity = "";
    else delete refs.node.dataset.activity;
  }
  alerts.decorate(refs, person);
}

const renderer = new WallRenderer({
  root,
  store,
  sincePrefixes: SINCE_PREFIXES,
  options,
  teams: () => Array.prototype.map.call(tiles(), (tile) => tile.dataset.team),
  decorate,
  onFrame({ teams }) {
    if (complete) renderStaleBanner(staleBanner, store);
    for (const team of teams) {
      const tile = tileOf(team) || addTile(team);
      if (tile) alerts.renderTile(tile);
    }
  },
  onPages(index, pages) {
    indicator.hidden = pages.length < 2;
    const range = pageRange(pages, index);
    indicator.querySelector(".page-n").textContent = String(index + 1);
    indicator.querySelector(".page-total").textContent = String(pages.length);
    indicator.querySelector(".page-range").textContent =
      `people ${range.first}–${range.last} of ${range.total}`;
    document.body.dataset.page = String(index + 1);
  },
});
startSinceTicker(() => renderer.sinceElements(), SINCE_PREFIXES);
for (const refs of renderer.people.values()) decorate(refs, store.people.get(refs.node.dataset.personId));

function addTile(team) {
  if (wanted.size && !wanted.has(team)) return null;
  const counts = buildTeamCounts(team);
  const tile = buildTile(team, counts);
  insertSorted(summary, tile, (node) => node.dataset.team, ".team-summary");
  renderer.registerCounts(team, counts);
  renderer.updateCounts(team);
  return tile;
}

function everyoneKnown() {
  for (const team of store.counts.keys()) if (!tileOf(team)) addTile(team);
  complete = true;
  renderer.start();
}

const socket = connect({
  getSeq: () => store.seq,
  onSnapshot(snap) {
    syncServerClock(snap.server_time);
    const { changed, removed } = store.applySnapshot(snap);
    renderer.markRemoved(removed);
    renderer.markChanged(changed);
    renderer.markProviders();
    if (!complete) everyoneKnown();
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
if (complete) everyoneKnown();

socket.on("alerts", (body) => {
  alerts.apply(body);
  for (const tile of tiles()) alerts.renderTile(tile);
  for (const refs of renderer.people.values()) decorate(refs, store.people.get(refs.node.dataset.personId));
});
initAsOf({ socket, node: document.getElementById("data-as-of") });
initWallVisitors({ socket });
for (const tile of tiles()) alerts.renderTile(tile);

// Banners showing or hiding, tiles wrapping, or a new screen size change the room for cards.
let resizeFrame = 0;
new ResizeObserver(() => {
  if (!resizeFrame) {
    resizeFrame = requestAnimationFrame(() => {
      resizeFrame = 0;
      renderer.resized();
    });
  }
}).observe(root);

// Rotation: on by default whenever there is more than one page; ?rotate=0 turns it off.
const rotateS = options.rotate === null || options.rotate === undefined ? DEFAULT_ROTATE_S : options.rotate;
if (rotateS > 0) {
  setInterval(() => {
    if (renderer.pages && renderer.pages.length > 1) renderer.next();
  }, rotateS * 1000);
}

// A remote's or keyboard's arrows page by hand (the rotation carries on from there).
window.addEventListener("keydown", (event) => {
  if (event.key === "ArrowRight" || event.key === "PageDown") renderer.next();
  else if (event.key === "ArrowLeft" || event.key === "PageUp") renderer.previous();
});

const clock = document.getElementById("clock");
function tick() {
  const now = new Date();
  const text = now.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  if (clock.textContent !== text) {
    clock.textContent = text;
    clock.dateTime = now.toISOString();
  }
}
tick();
setInterval(tick, 1000);
