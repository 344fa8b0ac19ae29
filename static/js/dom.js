/**
 * Element builders for what appears after the first paint (new people, new teams, sources).
 * They mirror the markup of templates/_macros.html; keep the two in step.
 */

import { STATUSES } from "./store.js";
import { providerLabel, statusWord } from "./labels.js";

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function dot() {
  const node = el("span", "dot");
  node.setAttribute("aria-hidden", "true");
  return node;
}

// New cards and badges are clones of one built once: at the first load after a partial
// first paint thousands are made in one frame, and a deep clone costs a fraction of the
// createElement calls it replaces.
const prototypes = new Map(); // "source" or a view -> the element to clone

function cloneOf(kind, build) {
  if (!prototypes.has(kind)) prototypes.set(kind, build());
  return prototypes.get(kind).cloneNode(true);
}

function sourceItem() {
  const item = el("li", "source");
  item.append(el("span", "source-name"), " ", el("span", "source-status"));
  return item;
}

/** The source badges of one person, sorted by source name like the template's dictsort. */
export function fillSources(list, sources) {
  const items = Object.keys(sources || {})
    .sort()
    .map((name) => {
      const src = sources[name];
      const item = cloneOf("source", sourceItem);
      item.dataset.source = name;
      item.dataset.sourceStatus = src.status;
      if (src.stale) item.dataset.stale = "true";
      // The raw vendor state (detail) only on hover: it is for whoever debugs a mapping.
      item.title =
        `${providerLabel(name)}: ${src.status}` +
        (src.activity ? ` · ${src.activity}` : "") +
        (src.detail ? ` (${src.detail})` : "") +
        (src.stale ? ", stale" : "");
      item.firstChild.textContent = providerLabel(name);
      item.lastChild.textContent = src.status;
      // "busy · Busy" says nothing twice: the activity only when it adds to the status.
      if (src.activity && src.activity.toLowerCase() !== src.status) {
        item.append(" ", el("span", "source-activity", src.activity));
      }
      if (src.stale) item.append(el("span", "source-stale", "stale"));
      return item;
    });
  list.textContent = "";
  list.append(...items);
}

/** An empty card of `view`: the structure of templates/_macros.html person_card. */
function emptyPerson(view) {
  const item = el("li", "person");
  const body = el("span", "person-body");
  const line = el("span", "status-line");
  line.append(el("span", "status-text"), " ");
  line.append(el("span", "activity"), " ", el("span", "since"));
  if (view === "agent") {
    // The name opens the timeline drawer; the actions button the card menu (card-menu.js).
    const open = el("button", "name person-open");
    open.type = "button";
    open.setAttribute("aria-haspopup", "dialog");
    body.append(open, line, el("ul", "sources"));
    item.append(dot(), body, actionsButton(""));
  } else {
    body.append(el("span", "name"), line);
    item.append(dot(), body);
  }
  return item;
}

/** A person element with empty text; the renderer fills it like any changed person. */
export function buildPerson(person, view) {
  const item = cloneOf(view, () => emptyPerson(view));
  item.dataset.personId = person.id;
  item.dataset.status = person.status;
  item.dataset.team = person.team;
  item.dataset.name = person.name;
  const body = item.children[1];
  body.firstChild.textContent = person.name;
  body.children[1].firstChild.textContent = statusWord(person.status);
  if (view === "agent") item.lastChild.setAttribute("aria-label", `Actions for ${person.name}`);
  return item;
}

/** The card's "⋯" button, as templates/_macros.html person_card renders it. */
export function actionsButton(name) {
  const button = el("button", "card-actions", "⋯");
  button.type = "button";
  button.setAttribute("aria-haspopup", "menu");
  button.setAttribute("aria-expanded", "false");
  button.setAttribute("aria-label", `Actions for ${name}`);
  return button;
}

export function buildTeamCounts(team) {
  const list = el("ul", "team-counts");
  list.setAttribute("aria-label", `${team} status counts`);
  for (const status of STATUSES) {
    const item = el("li", "count");
    item.dataset.status = status;
    item.append(dot(), el("span", "count-n", "0"), " ", el("span", "count-word", status));
    if (status === "unknown") item.hidden = true;
    list.append(item);
  }
  return list;
}

/** A team section; the agent view carries its counts in the section header. */
export function buildTeamSection(team, view) {
  const section = el("section", "team");
  section.dataset.team = team;
  const name = el("h2", "team-name", team);
  if (view === "agent") {
    const head = el("header", "team-head");
    head.append(name, buildTeamCounts(team));
    section.append(head);
  } else {
    section.append(name);
  }
  // The agent view's list holds blocks of cards (people-blocks.js), the wall's the cards.
  section.append(el(view === "agent" ? "div" : "ul", "people"));
  return section;
}

const collator = new Intl.Collator(undefined, { sensitivity: "base", numeric: true });
export const compareNames = (a, b) => collator.compare(a, b);

/** Insert `node` among `parent`'s children keeping them sorted by `key(node)`. */
export function insertSorted(parent, node, key, selector) {
  const k = key(node);
  for (const child of parent.querySelectorAll(`:scope > ${selector}`)) {
    if (child !== node && compareNames(key(child), k) > 0) {
      parent.insertBefore(node, child);
      return;
    }
  }
  const tail = parent.querySelector(":scope > .empty");
  parent.insertBefore(node, tail);
}

/**
 * Insert `nodes`, already sorted by `key`, among `parent`'s sorted children in one pass: each
 * run of new nodes goes in as one fragment before the first child that sorts after it, the
 * rest before the trailing `.empty` notes. Linear where one insertSorted per node is
 * quadratic (the agent view's first load adds thousands), and the children already there are
 * not moved, so a card that has the focus keeps it. Children that are not in this order
 * (a server that collates a little differently) are sorted with the new nodes instead.
 */
export function mergeSorted(parent, nodes, key, selector) {
  const children = [...parent.querySelectorAll(`:scope > ${selector}`)];
  const keys = children.map(key);
  for (let c = 1; c < keys.length; c += 1) {
    if (compareNames(keys[c - 1], keys[c]) > 0) {
      resort(parent, children.concat(nodes), key);
      return;
    }
  }
  let i = 0;
  for (let c = 0; c < children.length && i < nodes.length; c += 1) {
    if (compareNames(keys[c], key(nodes[i])) <= 0) continue;
    const run = document.createDocumentFragment();
    while (i < nodes.length && compareNames(keys[c], key(nodes[i])) > 0) run.append(nodes[i++]);
    parent.insertBefore(run, children[c]);
  }
  if (i >= nodes.length) return;
  const rest = document.createDocumentFragment();
  while (i < nodes.length) rest.append(nodes[i++]);
  parent.insertBefore(rest, parent.querySelector(":scope > .empty"));
}

/** Run `move` (DOM moves); an element it moved that had the focus gets it back. */
export function keepingFocus(move) {
  const focused = document.activeElement;
  move();
  if (focused && focused.isConnected && document.activeElement !== focused) {
    focused.focus({ preventScroll: true });
  }
}

/** Put all of `nodes` in `parent` in order, in one insert; the focus stays where it was. */
function resort(parent, nodes, key) {
  keepingFocus(() => {
    const all = document.createDocumentFragment();
    for (const node of sortByKey(nodes, key)) all.append(node);
    parent.insertBefore(all, parent.querySelector(":scope > .empty"));
  });
}

/** `nodes` sorted by `key` with the same collation as insertSorted and mergeSorted. */
export function sortByKey(nodes, key) {
  const keyed = nodes.map((node) => ({ node, k: key(node) }));
  keyed.sort((a, b) => compareNames(a.k, b.k));
  return keyed.map((entry) => entry.node);
}
