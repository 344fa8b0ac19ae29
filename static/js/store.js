/**
 * Client-side presence state: people by id, provider health, seq, and counts kept up to date
 * incrementally (per team and status; stale sources per provider), so rendering stays cheap.
 */

/** The statuses in the order the counts show them: free, then less and less reachable. */
export const STATUSES = ["online", "busy", "away", "offline", "unknown"];

// Not Object.fromEntries: Chromium 73+, and TVs run Chromium 69.
const zeroCounts = () => STATUSES.reduce((counts, status) => ({ ...counts, [status]: 0 }), {});

function samePerson(a, b) {
  return (
    a.status === b.status &&
    a.since === b.since &&
    a.since_exact === b.since_exact &&
    a.activity === b.activity &&
    a.activity_source === b.activity_source &&
    a.detail === b.detail &&
    a.name === b.name &&
    a.team === b.team &&
    JSON.stringify(a.sources) === JSON.stringify(b.sources)
  );
}

export class PresenceStore {
  /** `accept(person)` narrows the store (the wall's ?team= filter); others are dropped. */
  constructor({ accept = () => true } = {}) {
    this.accept = accept;
    this.people = new Map();
    this.providers = {};
    this.seq = 0;
    this.counts = new Map(); // team -> {online, busy, away, offline, unknown}
    this.staleBySource = new Map(); // source name -> number of people with it stale
  }

  /** Replace everything; returns the ids whose element must change or go. */
  applySnapshot(snapshot) {
    const seen = new Set();
    const changed = [];
    for (const person of snapshot.people || []) {
      if (!this.accept(person)) continue;
      seen.add(person.id);
      if (this._put(person)) changed.push(person.id);
    }
    const removed = [];
    for (const id of [...this.people.keys()]) {
      if (!seen.has(id)) {
        this._drop(id);
        removed.push(id);
      }
    }
    this.providers = { ...(snapshot.providers || {}) };
    this.seq = snapshot.seq;
    return { changed, removed };
  }

  /** Apply a batch of PERSON objects; returns the ids that really changed. */
  applyChanges(people, seq) {
    const changed = [];
    for (const person of people || []) {
      if (this.accept(person) && this._put(person)) changed.push(person.id);
    }
    if (Number.isInteger(seq)) this.seq = seq;
    return changed;
  }

  /** Merge `{NAME: PROVIDER}` health changes. */
  mergeProviders(update) {
    Object.assign(this.providers, update || {});
  }

  teamCounts(team) {
    return this.counts.get(team) || zeroCounts();
  }

  /** Names of sources that are stale for at least one person. */
  staleSources() {
    return [...this.staleBySource].filter(([, n]) => n > 0).map(([name]) => name);
  }

  _put(person) {
    const old = this.people.get(person.id);
    if (old && samePerson(old, person)) return false;
    if (old) this._count(old, -1);
    this.people.set(person.id, person);
    this._count(person, +1);
    return true;
  }

  _drop(id) {
    const old = this.people.get(id);
    if (!old) return;
    this._count(old, -1);
    this.people.delete(id);
  }

  _count(person, delta) {
    let counts = this.counts.get(person.team);
    if (!counts) {
      counts = zeroCounts();
      this.counts.set(person.team, counts);
    }
    if (person.status in counts) counts[person.status] += delta;
    for (const [name, src] of Object.entries(person.sources || {})) {
      if (src && src.stale) {
        this.staleBySource.set(name, (this.staleBySource.get(name) || 0) + delta);
      }
    }
  }
}
