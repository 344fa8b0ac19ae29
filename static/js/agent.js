/** Entry point of the agent view `/`. */

import { boot } from "./boot.js";
import { el } from "./dom.js";
import { PeopleFilter } from "./filters.js";
import { renderProviderStrip } from "./health.js";
import { initScreenMeet } from "./screenmeet.js";
import { initVisitors } from "./visitors.js";

const strip = document.getElementById("provider-strip");
const teamSelect = document.getElementById("team-filter");
let filter = null;

const { store, renderer, socket } = boot({
  view: "agent",
  sincePrefixes: { exact: "for ", inexact: "for at least " },
  onFrame({ added, removed, providers }) {
    if (providers) renderProviderStrip(strip, store.providers);
    if (!filter) return;
    if (removed.length) filter.schedule();
    for (const id of added) filter.applyTo(renderer.people.get(id).node);
  },
  onTeamAdded(team) {
    const option = el("option", "", team);
    option.value = team;
    teamSelect.append(option);
  },
});

filter = new PeopleFilter({
  root: document.getElementById("people"),
  search: document.getElementById("search"),
  team: teamSelect,
  count: document.getElementById("result-count"),
});

initScreenMeet({ socket });
initVisitors({ socket });
