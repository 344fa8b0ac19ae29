/** Entry point of the wall view `/wall`: counts, banners, clock, density for the TV. */

import { boot } from "./boot.js";
import { buildTeamCounts, el, insertSorted } from "./dom.js";
import { renderStaleBanner } from "./health.js";
import { initWallVisitors } from "./wall-visitors.js";

const root = document.getElementById("people");
const summary = document.querySelector(".summary");
const staleBanner = document.getElementById("stale-banner");
const clock = document.getElementById("clock");

const LEVELS = ["normal", "compact", "dense", "tiny", "micro"];

/** Card size for `count` people: start from a guess, then step down while they overflow. */
function fit() {
  const count = store.people.size;
  let level = count <= 48 ? 0 : count <= 96 ? 1 : count <= 200 ? 2 : 3;
  root.dataset.density = LEVELS[level];
  while (level < LEVELS.length - 1 && root.scrollHeight > root.clientHeight + 1) {
    level += 1;
    root.dataset.density = LEVELS[level];
  }
}

const { store, renderer, socket } = boot({
  view: "wall",
  sincePrefixes: { exact: "", inexact: "≥" }, // short: the wall's status line is one line
  teamFilter: document.body.dataset.teamFilter || null,
  onFrame({ added, removed, teams }) {
    renderStaleBanner(staleBanner, store);
    if (added.length || removed.length) {
      document.getElementById("no-people").hidden = store.people.size > 0;
      for (const team of teams) {
        const section = renderer.sections.get(team);
        if (section) section.hidden = !section.querySelector(".person");
      }
      fit();
    } else if (root.dataset.density !== LEVELS.at(-1) && root.scrollHeight > root.clientHeight + 1) {
      fit(); // an activity made a card taller; at the smallest size there is nothing left to try
    }
  },
  onTeamAdded(team) {
    const item = el("li", "team-summary");
    item.dataset.team = team;
    const counts = buildTeamCounts(team);
    item.append(el("span", "team-summary-name", team), counts);
    insertSorted(summary, item, (node) => node.dataset.team, ".team-summary");
    renderer.registerCounts(team, counts);
  },
});

initWallVisitors({ socket });

// Banners showing or hiding, or a new screen size, change the room the people have.
new ResizeObserver(() => fit()).observe(root);
// fit() only steps down; retry from the top now and then in case room came back.
setInterval(fit, 60000);

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
