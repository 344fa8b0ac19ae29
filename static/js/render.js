/**
 * DOM rendering: changes are queued and applied in one pass per animation frame, touching only
 * the people that changed (a Map id -> element, hydrated from the server-rendered first paint).
 */

import {
  buildPerson,
  buildTeamSection,
  fillSources,
  insertSorted,
  mergeSorted,
  sortByKey,
} from "./dom.js";
import { activityText, providerLabel, statusWord } from "./labels.js";
import { blockSize, placeInBlocks, refill } from "./people-blocks.js";
import { STATUSES } from "./store.js";
import { sinceElementText } from "./timefmt.js";

function setText(node, text) {
  if (node && node.textContent !== text) node.textContent = text;
}

/** Set an attribute, or remove it for an empty value (as the template leaves it out). */
function setOptional(node, name, value) {
  if (value) node.setAttribute(name, value);
  else node.removeAttribute(name);
}

// Hover texts here and in updateActivity: the same words as templates/_macros.html person_card.
const INEXACT_SINCE_TITLE =
  "No source gives a start time: counted from when this status was first seen";

/** The card's activity ("On the phone"), not `detail`: that is the vendor's raw state now. */
function updateActivity(node, person) {
  const activity = activityText(person);
  setText(node, activity);
  const source = (activity && person.activity_source) || "";
  if ((node.dataset.activitySource || "") === source) return;
  setOptional(node, "data-activity-source", source);
  setOptional(node, "title", source && `Reported by ${providerLabel(source)}`);
}

const byName = (node) => node.dataset.name || "";
const byTeam = (node) => node.dataset.team || "";

export class Renderer {
  /**
   * root: the element holding the team sections; view: "agent" | "wall";
   * onFrame({added, removed, teams, providers, changed}) runs after each pass (filters,
   * banners, the timeline); `changed` holds every id whose person was (re)rendered;
   * onTeamAdded(team, section) lets the page add its own per-team controls.
   */
  constructor({ root, store, view, sincePrefixes, onFrame = () => {}, onTeamAdded = () => {} }) {
    Object.assign(this, { root, store, view, sincePrefixes, onFrame, onTeamAdded });
    this.people = new Map(); // id -> {node, name, statusText, activity, since, sources, sourcesKey}
    this.sections = new Map(); // team -> section element
    this.countLists = new Map(); // team -> [{status: count-n span, ...}]
    this.changed = new Set();
    this.removed = new Set();
    this.providersDirty = false;
    this.frame = 0;
    this.blockSize = blockSize(root); // cards per block of a team's list (0: one list)
    this.hydrate();
  }

  /** Adopt the server-rendered elements instead of rebuilding them. */
  hydrate() {
    for (const node of this.root.querySelectorAll("[data-person-id]")) {
      const person = this.store.people.get(node.dataset.personId);
      this.people.set(node.dataset.personId, this.refs(node, person));
    }
    for (const section of this.root.querySelectorAll("section.team[data-team]")) {
      this.sections.set(section.dataset.team, section);
    }
    for (const list of document.querySelectorAll(".team-counts")) {
      const owner = list.closest("[data-team]");
      if (owner) this.registerCounts(owner.dataset.team, list);
    }
  }

  refs(node, person) {
    const q = (selector) => node.querySelector(selector);
    return {
      node,
      name: q(".name"),
      statusText: q(".status-text"),
      activity: q(".activity"),
      since: q(".since"),
      sources: q(".sources"),
      sourcesKey: person ? JSON.stringify(person.sources || {}) : "",
    };
  }

  registerCounts(team, list) {
    const spans = {};
    for (const status of STATUSES) {
      const item = list.querySelector(`.count[data-status="${status}"]`);
      if (item) spans[status] = { item, n: item.querySelector(".count-n") };
    }
    if (!this.countLists.has(team)) this.countLists.set(team, []);
    this.countLists.get(team).push(spans);
  }

  markChanged(ids) {
    for (const id of ids) this.changed.add(id);
    if (ids.length) this.schedule();
  }

  markRemoved(ids) {
    for (const id of ids) this.removed.add(id);
    if (ids.length) this.schedule();
  }

  markProviders() {
    this.providersDirty = true;
    this.schedule();
  }

  schedule() {
    if (!this.frame) this.frame = requestAnimationFrame(() => this.flush());
  }

  /** The one DOM pass of a frame. */
  flush() {
    this.frame = 0;
    const teams = new Set();
    const added = [];
    const removed = [...this.removed];
    const emptied = new Set(); // the lists a card left
    for (const id of removed) {
      const refs = this.people.get(id);
      if (!refs) continue;
      teams.add(refs.node.dataset.team);
      emptied.add(refs.node.closest(".people"));
      refs.node.remove();
      this.people.delete(id);
    }
    const arrivals = new Map(); // team -> the cards to put in its list (new or moved)
    const arrive = (team, node) => {
      if (!arrivals.has(team)) arrivals.set(team, []);
      arrivals.get(team).push(node);
    };
    for (const id of this.changed) {
      const person = this.store.people.get(id);
      if (!person) continue;
      let refs = this.people.get(id);
      if (!refs) {
        refs = this.refs(buildPerson(person, this.view), null);
        this.people.set(id, refs);
        arrive(person.team, refs.node);
        added.push(id);
      } else if (refs.node.dataset.team !== person.team) {
        teams.add(refs.node.dataset.team);
        emptied.add(refs.node.closest(".people"));
        refs.node.dataset.team = person.team;
        arrive(person.team, refs.node);
      }
      // Filled before it is placed: a new card's text costs no style work in the document.
      this.update(refs, person);
      teams.add(person.team);
    }
    this.placeAll(arrivals);
    if (this.blockSize) {
      for (const list of emptied) if (list && list.isConnected) refill(list, this.blockSize);
    }
    for (const team of teams) this.updateCounts(team);
    const providers = this.providersDirty;
    const changed = [...this.changed];
    this.changed.clear();
    this.removed.clear();
    this.providersDirty = false;
    this.onFrame({ added, removed, teams, providers, changed });
  }

  update(refs, person) {
    const { node } = refs;
    if (node.dataset.status !== person.status) node.dataset.status = person.status;
    setText(refs.statusText, statusWord(person.status));
    if (node.dataset.name !== person.name) {
      node.dataset.name = person.name;
      setText(refs.name, person.name);
      const actions = node.querySelector(".card-actions");
      if (actions) actions.setAttribute("aria-label", `Actions for ${person.name}`);
    }
    if (refs.activity) updateActivity(refs.activity, person);
    if (refs.since) this.updateSince(refs.since, person);
    if (refs.sources) {
      const key = JSON.stringify(person.sources || {});
      if (key !== refs.sourcesKey) {
        refs.sourcesKey = key;
        fillSources(refs.sources, person.sources);
      }
    }
  }

  updateSince(node, person) {
    const since = person.since || "";
    const exact = person.since_exact === false ? "false" : "true";
    if (node.dataset.since === since && node.dataset.sinceExact === exact) return;
    node.dataset.since = since;
    node.dataset.sinceExact = exact;
    setOptional(node, "title", exact === "false" ? INEXACT_SINCE_TITLE : "");
    setText(node, sinceElementText(node, this.sincePrefixes));
  }

  /**
   * Put cards in their teams' lists by name, creating the teams that are new. One arrival
   * (a person who joins later) is one sorted insert; many (the first snapshot after a
   * partial first paint: thousands) are sorted once and merged in one pass per team.
   */
  placeAll(arrivals) {
    const created = [];
    for (const [team, nodes] of arrivals) {
      let section = this.sections.get(team);
      if (!section) {
        section = buildTeamSection(team, this.view);
        this.sections.set(team, section);
        created.push(section);
      }
      const list = section.querySelector(".people");
      if (this.blockSize) placeInBlocks(list, sortByKey(nodes, byName), byName, this.blockSize);
      else if (nodes.length === 1) insertSorted(list, nodes[0], byName, ".person");
      else mergeSorted(list, sortByKey(nodes, byName), byName, ".person");
    }
    // New sections go into the page filled, each in one insert.
    const sections = sortByKey(created, byTeam);
    if (sections.length === 1) insertSorted(this.root, sections[0], byTeam, "section.team");
    else if (sections.length) mergeSorted(this.root, sections, byTeam, "section.team");
    for (const section of sections) {
      const counts = section.querySelector(".team-counts");
      if (counts) this.registerCounts(section.dataset.team, counts);
      this.onTeamAdded(section.dataset.team, section);
    }
  }

  updateCounts(team) {
    const counts = this.store.teamCounts(team);
    for (const spans of this.countLists.get(team) || []) {
      for (const status of STATUSES) {
        const slot = spans[status];
        if (!slot) continue;
        setText(slot.n, String(counts[status]));
        if (status === "unknown") slot.item.hidden = counts.unknown === 0;
      }
    }
  }

  /** The time-in-state elements, for the 15 s ticker. */
  *sinceElements() {
    for (const refs of this.people.values()) if (refs.since) yield refs.since;
  }
}
