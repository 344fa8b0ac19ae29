/**
 * The wall's cards: only the shown page is in the DOM. Changes to people on it are applied in
 * the shared Renderer's one pass per frame; new people, moves between teams and (with
 * ?sort=state) new states re-page at most once a second, and page sizes are measured only at
 * start and when the screen changes, never per frame.
 */

import { buildPerson, buildTeamSection } from "./dom.js";
import { Renderer } from "./render.js";
import { paginate, teamSections } from "./wall-pager.js";

const RELAYOUT_MS = 1000;
const RESORT_MS = 5000; // ?sort=state: the order follows new states this often (and per page)
const DENSITIES = ["large", "normal"]; // larger cards while everyone fits on one page

const PROBE_PERSON = { id: "probe", name: "Probe Person", team: "Probe", status: "online" };

export class WallRenderer extends Renderer {
  /**
   * options: the wall's {sort, view}; teams(): the shown teams in order; decorate(refs, person)
   * marks a card (the alert flags); onPages(index, pages) after a page is shown.
   */
  constructor({ root, store, sincePrefixes, options, teams, decorate, onFrame, onPages }) {
    super({ root, store, view: "wall", sincePrefixes, onFrame });
    Object.assign(this, { options, teams, decorate, onPages });
    this.pages = null; // null until everyone is known (the embedded snapshot is one page)
    this.index = 0;
    this.laidOut = new Map(); // id -> {team, status, since} when the pages were made
    this.metrics = new Map(); // density -> measured sizes
    this.relayoutTimer = 0;
    this.orderDirty = false;
    this.lastSort = 0;
    this.noPeople = document.getElementById("no-people");
  }

  /** The shared pass, for the people on the page; others only count. */
  flush() {
    this.frame = 0;
    const teams = new Set();
    let layout = false;
    for (const id of this.removed) {
      const was = this.laidOut.get(id);
      if (was) {
        teams.add(was.team);
        layout = true;
      }
    }
    for (const id of this.changed) {
      const person = this.store.people.get(id);
      if (!person) continue;
      teams.add(person.team);
      const was = this.laidOut.get(id);
      if (!was || was.team !== person.team) layout = true;
      else if (was.status !== person.status || was.since !== person.since) this.orderDirty = true;
      const refs = this.people.get(id);
      if (refs) {
        this.update(refs, person);
        this.decorate(refs, person);
      }
    }
    for (const team of teams) this.updateCounts(team);
    const providers = this.providersDirty;
    const removed = [...this.removed];
    this.changed.clear();
    this.removed.clear();
    this.providersDirty = false;
    if (layout && this.pages) this.scheduleRelayout();
    this.onFrame({ added: [], removed, teams, providers });
  }

  /** Everyone is known (the socket's snapshot): page them now. */
  start() {
    if (this.options.view === "summary") return;
    this.relayout();
  }

  scheduleRelayout() {
    if (!this.relayoutTimer) {
      this.relayoutTimer = setTimeout(() => {
        this.relayoutTimer = 0;
        this.relayout();
      }, RELAYOUT_MS);
    }
  }

  /** The screen changed size: measure again and re-page. */
  resized() {
    this.metrics.clear();
    if (this.pages) this.relayout();
  }

  orderedSections() {
    return teamSections(this.store.people.values(), this.teams(), this.options.sort);
  }

  relayout() {
    clearTimeout(this.relayoutTimer);
    this.relayoutTimer = 0;
    const sections = this.orderedSections();
    let pages = [];
    for (const density of DENSITIES) {
      this.root.dataset.density = density;
      pages = paginate(sections, this.measure(density));
      if (pages.length === 1) break;
    }
    this.laidOut.clear();
    for (const { ids } of sections) {
      for (const id of ids) {
        const p = this.store.people.get(id);
        this.laidOut.set(id, { team: p.team, status: p.status, since: p.since });
      }
    }
    this.orderDirty = false;
    this.lastSort = Date.now();
    this.pages = pages;
    this.show(Math.min(this.index, pages.length - 1));
  }

  /** Next page (rotation); with ?sort=state the order is brought up to date first. */
  next() {
    if (!this.pages) return;
    const resort = this.orderDirty && Date.now() - this.lastSort >= RESORT_MS;
    if (resort && this.options.sort === "state") this.relayout();
    this.show((this.index + 1) % this.pages.length);
  }

  /** The page before (the arrow keys of a TV remote or keyboard). */
  previous() {
    if (this.pages) this.show((this.index + this.pages.length - 1) % this.pages.length);
  }

  /** Put page `index` in the DOM, reusing the cards already there. */
  show(index) {
    this.index = index;
    const old = this.people;
    const people = new Map();
    const sections = [];
    for (const chunk of this.pages[index] || []) {
      const section = buildTeamSection(chunk.team, "wall");
      if (chunk.cont) {
        section.dataset.cont = "true";
        section.querySelector(".team-name").textContent = `${chunk.team} (cont.)`;
      }
      const list = section.querySelector(".people");
      for (const id of chunk.ids) {
        const person = this.store.people.get(id);
        let refs = old.get(id);
        if (!refs) {
          refs = this.refs(buildPerson(person, "wall"), null);
          this.update(refs, person);
        }
        this.decorate(refs, person);
        people.set(id, refs);
        list.append(refs.node);
      }
      sections.push(section);
    }
    this.people = people;
    // Not replaceChildren(): Chromium 86+ only, and TVs run Chromium 69.
    const page = document.createDocumentFragment();
    for (const section of sections) page.append(section);
    page.append(this.noPeople);
    this.root.textContent = "";
    this.root.append(page);
    this.noPeople.hidden = this.store.people.size > 0;
    this.onPages(index, this.pages);
  }

  /** Sizes of a section heading, a card row and the room, for one density (cached). */
  measure(density) {
    if (this.metrics.has(density)) return this.metrics.get(density);
    const probe = buildTeamSection("Probe", "wall");
    probe.classList.add("probe");
    const list = probe.querySelector(".people");
    const card = buildPerson(PROBE_PERSON, "wall");
    card.querySelector(".since").textContent = "1h 20m";
    list.append(card);
    this.root.append(probe);
    const rootStyle = getComputedStyle(this.root);
    const listStyle = getComputedStyle(list);
    const top = probe.getBoundingClientRect().top;
    const metrics = {
      cols: Math.max(1, listStyle.gridTemplateColumns.split(" ").filter(Boolean).length),
      head: list.getBoundingClientRect().top - top,
      row: card.getBoundingClientRect().height + (parseFloat(listStyle.rowGap) || 0),
      gap: parseFloat(getComputedStyle(probe).marginBottom) || 0,
      avail:
        this.root.clientHeight -
        parseFloat(rootStyle.paddingTop) -
        parseFloat(rootStyle.paddingBottom),
    };
    probe.remove();
    this.metrics.set(density, metrics);
    return metrics;
  }
}
