/**
 * The wall's order and pages, pure: which people go on which page, whole team sections where
 * they fit. The same rules as presence_dash/wall_plan.py (the server's first page).
 */

import { compareNames } from "./dom.js";

/** ?sort=state: the people a supervisor looks for first, each longest in the state first. */
export const STATE_ORDER = { busy: 0, away: 1, online: 2, offline: 3, unknown: 4 };

function sinceMs(person) {
  const t = Date.parse(person.since || "");
  return Number.isNaN(t) ? Infinity : t;
}

function byName(a, b) {
  return compareNames(a.name || "", b.name || "") || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

function byState(a, b) {
  const rank = (p) => (p.status in STATE_ORDER ? STATE_ORDER[p.status] : 9);
  return rank(a) - rank(b) || sinceMs(a) - sinceMs(b) || byName(a, b);
}

/**
 * [{team, ids}] for `teams` (in that order), each team's people by name or, with
 * sort "state", by state then longest in it. Teams without people are left out.
 */
export function teamSections(people, teams, sort) {
  const groups = new Map(teams.map((team) => [team, []]));
  for (const person of people) {
    const group = groups.get(person.team);
    if (group) group.push(person);
  }
  const compare = sort === "state" ? byState : byName;
  const sections = [];
  for (const [team, group] of groups) {
    if (!group.length) continue;
    group.sort(compare);
    sections.push({ team, ids: group.map((p) => p.id) });
  }
  return sections;
}

/**
 * Pages of [{team, ids, cont}] for metrics {cols, row, head, gap, avail} (px): a section
 * goes whole on the page if it fits in the room left; else whole on the next page if it
 * fits on a page; else it fills this page and continues ("Service Desk (cont.)").
 */
export function paginate(sections, { cols, row, head, gap, avail }) {
  const pages = [];
  let page = [];
  let used = 0;
  const height = (n) => head + Math.ceil(n / cols) * row + gap;
  for (const { team, ids } of sections) {
    let rest = ids;
    let cont = false;
    while (rest.length) {
      const room = avail - used;
      if (height(rest.length) <= room) {
        page.push({ team, ids: rest, cont });
        used += height(rest.length);
        break;
      }
      const rows = Math.floor((room - head - gap) / row);
      if (page.length && (height(rest.length) <= avail || rows < 2)) {
        pages.push(page);
        page = [];
        used = 0;
        continue;
      }
      const take = Math.max(1, rows) * cols;
      page.push({ team, ids: rest.slice(0, take), cont });
      rest = rest.slice(take);
      cont = true;
      pages.push(page);
      page = [];
      used = 0;
    }
  }
  if (page.length || !pages.length) pages.push(page);
  return pages;
}

/** "51–100 of 600": the people on page `index` of `pages`, counted over all of them. */
export function pageRange(pages, index) {
  let before = 0;
  let total = 0;
  pages.forEach((page, i) => {
    const n = page.reduce((sum, chunk) => sum + chunk.ids.length, 0);
    if (i < index) before += n;
    total += n;
  });
  const here = pages[index] ? pages[index].reduce((sum, c) => sum + c.ids.length, 0) : 0;
  return { first: here ? before + 1 : 0, last: before + here, total };
}
