/** Entry point of the agent view `/`. */

import { boot } from "./boot.js";
import { CardMenu } from "./card-menu.js";
import { compareNames, el } from "./dom.js";
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
const search = document.getElementById("search");
let filter = null;
let timeline = null;
let sourceLog = null;
// The page renders the first screenful; the socket's snapshot brings everyone (agent_plan.py).
let everyoneArrived = false;
let everyoneBuilt = false;

const { store, renderer, socket, initial } = boot({
  view: "agent",
  sincePrefixes: { exact: "for ", inexact: "for at least " },
  onFrame({ added, removed, providers, changed }) {
    if (providers) renderProviderStrip(strip, store.providers);
    if (!filter) return;
    // The people the socket's first snapshot adds count as seen when the page opened, as
    // the ones it rendered do.
    const firstBuild = everyoneArrived && !everyoneBuilt ? new Set(added) : null;
    const now = serverNow();
    for (const id of changed) {
      const person = store.people.get(id);
      if (!person) continue;
      sourceLog.record(person, firstBuild && firstBuild.has(id) ? sourceLog.loadedAt : now);
    }
    const node = (id) => renderer.people.get(id) && renderer.people.get(id).node;
    filter.update({
      added: added.map(node).filter(Boolean),
      removed,
      changed: changed.map(node).filter(Boolean),
    });
    if (everyoneArrived && !everyoneBuilt) {
      everyoneBuilt = true;
      filter.setLoading(0); // this frame built everyone's card: no more "loading"
    }
    timeline.peopleChanged(changed);
  },
  onTeamAdded(team) {
    // The select lists every team of the first paint already; a team new since then sorts in.
    const options = [...teamSelect.options];
    if (options.some((o) => o.value === team)) return;
    const option = el("option", "", team);
    option.value = team;
    const after = options.find((o) => o.value && compareNames(o.value, team) > 0);
    teamSelect.insertBefore(option, after || null);
  },
  onSnapshot() {
    everyoneArrived = true;
  },
});

sourceLog = new SourceLog(serverNow());
for (const person of store.people.values()) sourceLog.record(person, sourceLog.loadedAt);

filter = new PeopleFilter({
  root,
  search,
  team: teamSelect,
  count: document.getElementById("result-count"),
  loadingNote: document.getElementById("people-loading"),
  expected: initial.partial ? initial.total : 0,
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

// Past thousands of cards by keyboard: "/" (as on GitHub or MDN) and the skip link at the top
// go to the search from anywhere, unless the key is being typed into a field or a dialog
// (the timeline drawer, ScreenMeet's) has the focus.
const TYPING = "input, textarea, select, [contenteditable], [role=dialog], dialog";
document.addEventListener("keydown", (event) => {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.target.closest && event.target.closest(TYPING)) return;
  event.preventDefault();
  search.focus();
  search.select();
});
const skip = document.querySelector(".skip-link");
if (skip) {
  skip.addEventListener("click", (event) => {
    event.preventDefault();
    search.focus();
  });
}
