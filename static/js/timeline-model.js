/**
 * The timeline drawer's data, without the DOM: status segments over a window from the
 * server's history (GET /api/people/<id>/history: the aggregate's `changes` and each source's
 * under `sources`), extended live with what this page sees. A segment is {status, activity,
 * start, end} in ms; status "none" where nothing is known.
 */

export const WINDOW_MS = 24 * 3600 * 1000;

/** Join neighbours of the same status and activity and drop empty ones, except the last:
 * the status now is shown even in the millisecond it began (the bar gives every segment 2 px). */
function tidy(segments) {
  const out = [];
  segments.forEach((seg, i) => {
    if (!(seg.end > seg.start) && (i < segments.length - 1 || seg.status === "none")) return;
    const last = out[out.length - 1];
    const same = last && last.status === seg.status && last.activity === seg.activity;
    if (same && last.end >= seg.start) last.end = seg.end;
    else out.push({ ...seg, activity: seg.activity || "" });
  });
  return out;
}

/** History entries ({from, to, at: ISO, activity?}, newest first as the API sends them) in
 * time order, unreadable ones left out. Changes may share a time stamp (a change is never dated before
 * the one it ends), so the API's order decides between them: reversed, then a stable sort. */
export function orderedChanges(changes) {
  return (changes || [])
    .slice()
    .reverse()
    .map((c) => ({ from: c.from, to: c.to, at: Date.parse(c.at), activity: c.activity || "" }))
    .filter((c) => Number.isFinite(c.at) && c.to)
    .sort((a, b) => a.at - b.at);
}

/**
 * The aggregate bar from `changes` (time order, see orderedChanges) and the person now.
 * Before the first change the person was in its `from` (not known if that is unknown); with
 * no change in the window, in the current status since `since`, and not known before that.
 */
export function aggregateSegments(changes, person, start, now) {
  const inWindow = changes.filter((c) => c.at <= now);
  if (!inWindow.length) {
    const since = Date.parse(person.since || "");
    const begin = Number.isFinite(since) ? Math.min(now, Math.max(start, since)) : start;
    return tidy([
      { status: "none", start, end: begin },
      { status: person.status, start: begin, end: now },
    ]);
  }
  const segments = [];
  let cursor = start;
  // Before the first record, "unknown" is what a fresh dashboard starts from: not known.
  const before = inWindow[0].from;
  let status = before && before !== "unknown" ? before : "none";
  for (const change of inWindow) {
    const at = Math.max(cursor, change.at);
    segments.push({ status, start: cursor, end: at });
    status = change.to;
    cursor = at;
  }
  segments.push({ status, start: cursor, end: now });
  return tidy(segments);
}

/** The status a source counts as: a stale source is ignored by the server, so unknown. */
export const sourceStatus = (src) => (!src ? "none" : src.stale ? "unknown" : src.status);

/**
 * What this page saw of each person's sources: the state at load, then every change, dated
 * when the page saw it. record() is called with every person the renderer updated.
 */
export class SourceLog {
  constructor(loadedAt) {
    this.loadedAt = loadedAt;
    this.people = new Map(); // person id -> Map(source -> [{at, status, activity}])
  }

  record(person, at) {
    let sources = this.people.get(person.id);
    if (!sources) {
      sources = new Map();
      this.people.set(person.id, sources);
    }
    const names = new Set([...Object.keys(person.sources || {}), ...sources.keys()]);
    for (const name of names) {
      const src = (person.sources || {})[name];
      const status = sourceStatus(src);
      const activity = (src && src.activity) || "";
      let entries = sources.get(name);
      if (!entries) {
        entries = [];
        sources.set(name, entries);
      }
      const last = entries[entries.length - 1];
      if (!last) entries.push({ at: Math.min(at, this.loadedAt), status, activity });
      else if (last.status !== status || last.activity !== activity) {
        entries.push({ at: Math.max(at, last.at), status, activity });
      }
    }
  }

  /** Source name -> entries, in name order. */
  of(personId) {
    const sources = this.people.get(personId) || new Map();
    return [...sources.keys()].sort().map((name) => [name, sources.get(name)]);
  }
}

/**
 * One source's entries ({at, status, activity}, time order) from its recorded `changes` (time
 * order, see orderedChanges; the oldest may predate the window: the change in force when it
 * began), then what this page saw after `since` (when the history arrived), then what the page
 * knows now: `live` is the SourceLog's entries, its last one the source's current state.
 * Without recorded changes, only what the page saw.
 */
export function sourceEntries(changes, live, since) {
  if (!changes.length) return live.slice();
  const first = changes[0];
  // As for the aggregate: before the first record the source was in its `from`, unless
  // that is the unknown a fresh dashboard starts from.
  const known = first.from && first.from !== "unknown";
  const entries = known ? [{ at: -Infinity, status: first.from, activity: "" }] : [];
  for (const c of changes) entries.push({ at: c.at, status: c.to, activity: c.activity });
  const add = (entry) => {
    const last = entries[entries.length - 1];
    if (last.status === entry.status && last.activity === entry.activity) return;
    entries.push({ ...entry, at: Math.max(entry.at, last.at) });
  };
  live.filter((entry) => entry.at > since).forEach(add);
  if (live.length) add(live[live.length - 1]); // a change seen while the request was out
  return entries;
}

/** One source's bar from its entries: not known before the first, then each in turn. */
export function sourceSegments(entries, start, now) {
  const segments = [];
  let cursor = start;
  let status = "none";
  let activity = "";
  for (const entry of entries) {
    const at = Math.min(now, Math.max(start, entry.at));
    segments.push({ status, activity, start: cursor, end: at });
    status = entry.status;
    activity = entry.activity || "";
    cursor = at;
  }
  segments.push({ status, activity, start: cursor, end: now });
  return tidy(segments);
}

/** Left and width of a segment in percent of the window. */
export function placement(seg, start, now) {
  const span = Math.max(1, now - start);
  return {
    left: ((seg.start - start) / span) * 100,
    width: ((seg.end - seg.start) / span) * 100,
  };
}
