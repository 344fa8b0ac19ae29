/** Entry point of the agent view `/`. */

import { boot } from "./boot.js";
import { CardMenu } from "./card-menu.js";
import { el } from "./dom.js";
import { PeopleFilter } from "./filters.js";
import { renderProviderStrip } from "./health.js";
import { initScreenMeet } from "./screenmeet.js";
import { serverNow } from "./timefmt.js";
import { SourceLog } from "./timeline-model.js";
import { TimelineDrawer } from "./timeline.js";
import { initVisitors } from "./visitors.js";

const root = document.getElementById("people");
const strip = document.getElementById("provider-strip");
const teamSelect = document.getElementById("team-filter");
let filter = null;
let timeline = null;
let sourceLog = null;

const { store, renderer, socket } = boot({
  view: "agent",
  sincePrefixes: { exact: "for ", inexact: "for at least " },
  onFrame({ added, removed, providers, changed }) {
    if (providers) renderProviderStrip(strip, store.providers);
    if (!filter) return;
    const now = serverNow();
    for (const id of changed) {
      const person = store.people.get(id);
      if (person) sourceLog.record(person, now);
    }
    const node = (id) => renderer.people.get(id) && renderer.people.get(id).node;
    filter.update({
      added: added.map(node).filter(Boolean),
      removed,
      changed: changed.map(node).filter(Boolean),
    });
    timeline.peopleChanged(changed);
  },
  onTeamAdded(team) {
    const option = el("option", "", team);
    option.value = team;
    teamSelect.append(option);
  },
});

sourceLog = new SourceLog(serverNow());
for (const person of store.people.values()) sourceLog.record(person, sourceLog.loadedAt);

filter = new PeopleFilter({
  root,
  search: document.getElementById("search"),
  team: teamSelect,
  count: document.getElementById("result-count"),
});

timeline = new TimelineDrawer({
  drawer: document.getElementById("timeline"),
  backdrop: document.getElementById("timeline-backdrop"),
  store,
  sourceLog,
});

function openTimeline(card) {
  timeline.open(card.dataset.personId, card.querySelector(".person-open"));
}

const menu = new CardMenu({ root, menu: document.getElementById("card-menu"), onTimeline: openTimeline });

// A click anywhere on a card (its name is the keyboard's button) opens the timeline; the
// actions button has its menu, and selecting text is not a click.
root.addEventListener("click", (event) => {
  if (event.target.closest(".card-actions")) return;
  const card = event.target.closest(".person[data-person-id]");
  if (!card) return;
  const selection = window.getSelection();
  if (selection && !selection.isCollapsed && card.contains(selection.anchorNode)) return;
  openTimeline(card);
});

initScreenMeet({ socket, menu });
initVisitors({ socket });
