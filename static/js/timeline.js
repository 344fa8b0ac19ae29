/**
 * The per-person timeline drawer of the agent view: the last 24 h as one bar for the person's
 * status and one per source, from the server's history and then what this page sees live, in
 * the dots' colours and shapes; each bar is a list whose items say their status and times.
 * An accessible dialog without <dialog> (older TV browsers lack it): the focus moves in and
 * stays in, Escape or Close closes it, the focus goes back to where it was.
 */

import { el } from "./dom.js";
import { apiCall } from "./http.js";
import { keepTabInside } from "./modal.js";
import { providerLabel, statusWord } from "./labels.js";
import { formatClock, serverNow } from "./timefmt.js";
import {
  WINDOW_MS,
  aggregateSegments,
  orderedChanges,
  placement,
  sourceEntries,
  sourceSegments,
} from "./timeline-model.js";

const TICK_MS = 5000; // while open, "now" moves on (a few rows: cheap)
const MAX_CHANGES_LISTED = 12;
const word = (status) => (status === "none" ? "Not known" : statusWord(status));
/** "Busy (On the phone)"; no activity where it would only repeat the status word. */
function segmentWords(seg) {
  const status = word(seg.status);
  const activity = seg.activity || "";
  return activity && activity.toLowerCase() !== status.toLowerCase()
    ? `${status} (${activity})`
    : status;
}

function bar(label, segments, start, now) {
  const row = el("div", "tl-row");
  const name = el("span", "tl-label", label);
  const list = el("ol", "tl-bar");
  list.setAttribute("aria-label", label);
  for (const seg of segments) {
    const item = el("li", "tl-seg");
    item.dataset.status = seg.status;
    const { left, width } = placement(seg, start, now);
    // CSSOM, not a style attribute: the CSP (style-src 'self') allows this.
    item.style.left = `${left.toFixed(3)}%`;
    item.style.width = `${width.toFixed(3)}%`;
    const text = `${segmentWords(seg)} ${formatClock(new Date(seg.start))}–${formatClock(new Date(seg.end))}`;
    item.title = text;
    item.append(el("span", "sr-only", text));
    list.append(item);
  }
  row.append(name, list);
  return row;
}

function axis(start, now) {
  const row = el("div", "tl-row tl-axis-row");
  row.append(el("span", "tl-label"));
  const ticks = el("div", "tl-axis");
  ticks.setAttribute("aria-hidden", "true");
  for (let i = 0; i <= 4; i += 1) {
    const at = start + ((now - start) * i) / 4;
    // Hours ago, not clock times: short enough for a phone (each segment's title has times).
    const minutes = Math.round((now - at) / 60000);
    const ago = minutes >= 120 ? `${Math.round(minutes / 60)} h ago` : `${minutes} min ago`;
    const tick = el("span", "tl-tick", i === 4 ? "now" : ago);
    tick.title = formatClock(new Date(at));
    tick.style.left = `${i * 25}%`;
    ticks.append(tick);
  }
  row.append(ticks);
  return row;
}

export class TimelineDrawer {
  /** store: the page's PresenceStore; sourceLog: a SourceLog fed by the renderer's frames. */
  constructor({ drawer, backdrop, store, sourceLog }) {
    Object.assign(this, { drawer, backdrop, store, sourceLog });
    this.chart = drawer.querySelector(".tl-chart");
    this.note = drawer.querySelector(".tl-note");
    this.changesList = drawer.querySelector(".tl-changes");
    this.closeButton = drawer.querySelector(".drawer-close");
    this.personId = null;
    this.changes = []; // aggregate changes in time order: history, then what arrived live
    this.sourceHistory = {}; // source -> its recorded changes in time order
    this.historyAt = Infinity; // when the history arrived: later source changes are live
    this.lastStatus = null;
    this.returnTo = null;
    this.timer = 0;
    this.request = 0;
    this.spanMs = WINDOW_MS; // the history is always fetched for 24 h; "Last hour" zooms in
    for (const button of drawer.querySelectorAll(".tl-span")) {
      button.addEventListener("click", () => {
        this.spanMs = Number(button.dataset.hours) * 3600 * 1000;
        for (const other of drawer.querySelectorAll(".tl-span")) {
          other.setAttribute("aria-pressed", String(other === button));
        }
        this.render();
      });
    }
    this.closeButton.addEventListener("click", () => this.close());
    backdrop.addEventListener("click", () => this.close());
    drawer.addEventListener("keydown", (event) => this.onKey(event));
  }

  get isOpen() {
    return this.personId !== null;
  }

  open(personId, returnTo = document.activeElement) {
    const person = this.store.people.get(personId);
    if (!person) return;
    this.personId = personId;
    this.returnTo = returnTo;
    this.changes = [];
    this.sourceHistory = {};
    this.historyAt = Infinity;
    this.lastStatus = person.status;
    this.loaded = false;
    this.error = "";
    this.drawer.hidden = false;
    this.backdrop.hidden = false;
    document.body.classList.add("drawer-open");
    this.render();
    this.closeButton.focus();
    clearInterval(this.timer);
    this.timer = setInterval(() => this.render(), TICK_MS);
    this.fetch(personId);
  }

  async fetch(personId) {
    const request = ++this.request;
    try {
      const url = `/api/people/${encodeURIComponent(personId)}/history?hours=24`;
      const data = await apiCall("GET", url);
      if (request !== this.request || personId !== this.personId) return;
      const live = this.changes; // seen while the request was out: keep those it lacks
      const history = orderedChanges(data.changes);
      const known = (c) => history.some((h) => h.to === c.to && Math.abs(h.at - c.at) < 2000);
      this.changes = [...history, ...live.filter((c) => !known(c))].sort((a, b) => a.at - b.at);
      this.sourceHistory = {};
      for (const name of Object.keys(data.sources || {})) {
        this.sourceHistory[name] = orderedChanges(data.sources[name]);
      }
      this.historyAt = serverNow();
      this.loaded = true;
    } catch (err) {
      if (request !== this.request) return;
      this.error = `History unavailable: ${err.message}`;
    }
    this.render();
  }

  close() {
    if (!this.isOpen) return;
    this.personId = null;
    this.request += 1;
    clearInterval(this.timer);
    this.drawer.hidden = true;
    this.backdrop.hidden = true;
    document.body.classList.remove("drawer-open");
    const target = this.returnTo;
    this.returnTo = null;
    if (target && target.isConnected) target.focus();
  }

  /** The renderer updated these people: extend the bars if the open one is among them. */
  peopleChanged(ids) {
    if (!this.isOpen || !ids.includes(this.personId)) return;
    const person = this.store.people.get(this.personId);
    if (!person) return this.close();
    if (person.status !== this.lastStatus) {
      const since = Date.parse(person.since || "");
      const last = this.changes.length ? this.changes[this.changes.length - 1].at : 0;
      const now = serverNow();
      const at = Number.isFinite(since) && since >= last && since <= now ? since : now;
      this.changes.push({ from: this.lastStatus, to: person.status, at });
      this.lastStatus = person.status;
    }
    this.render();
  }

  render() {
    const person = this.store.people.get(this.personId);
    if (!person) return;
    const now = serverNow();
    const start = now - this.spanMs;
    const head = this.drawer.querySelector(".drawer-person");
    head.dataset.status = person.status;
    this.drawer.querySelector(".drawer-title").textContent = person.name;
    const activity = person.activity ? ` · ${person.activity}` : "";
    this.drawer.querySelector(".drawer-status").textContent =
      `${statusWord(person.status)}${activity} · ${person.team}`;

    const rows = [axis(start, now)];
    const overall = this.loaded || this.error ? aggregateSegments(this.changes, person, start, now) : [];
    rows.push(bar("All sources", overall, start, now));
    // The person's sources as this page knows them: a source only the history has is one
    // the dashboard no longer reads for them, and its last record is not its state now.
    const seen = this.sourceLog.of(person.id);
    const names = seen.map(([name]) => name);
    for (const [name, live] of seen) {
      const entries = sourceEntries(this.sourceHistory[name] || [], live, this.historyAt);
      rows.push(bar(providerLabel(name), sourceSegments(entries, start, now), start, now));
    }
    this.chart.textContent = "";
    this.chart.append(...rows);
    this.chart.dataset.loaded = String(this.loaded);

    const seenSince = formatClock(new Date(this.sourceLog.loadedAt));
    const unrecorded = names.filter((name) => !(this.sourceHistory[name] || []).length);
    const fallback = unrecorded.length
      ? ` No change is recorded for ${unrecorded.map(providerLabel).join(", ")}: ` +
        `${unrecorded.length > 1 ? "their bars show" : "its bar shows"} what this page has ` +
        `seen since it opened at ${seenSince}.`
      : "";
    this.note.textContent =
      (this.error ? `${this.error}. ` : "") +
      "“All sources” is the status the dashboard recorded; each source’s bar is what that " +
      "source said, a stale source counting as unknown. Before the first record a bar is " +
      `not known.${this.loaded ? fallback : ""}`;

    const listed = this.changes.slice(-MAX_CHANGES_LISTED).reverse();
    const items = listed.map((c) => {
      const item = el("li", "tl-change");
      item.append(el("time", "tl-change-at", formatClock(new Date(c.at))), " ");
      item.append(el("span", "", `${word(c.from || "none")} → ${word(c.to)}`));
      return item;
    });
    if (!items.length) {
      items.push(el("li", "tl-change", this.loaded ? "No change in the last 24 hours." : "Loading…"));
    }
    this.changesList.textContent = "";
    this.changesList.append(...items);
  }

  /** Escape closes; Tab and Shift+Tab cycle inside the drawer. */
  onKey(event) {
    if (event.key === "Escape") {
      event.preventDefault();
      this.close();
      return;
    }
    if (event.key === "Tab") keepTabInside(this.drawer, event);
  }
}
