/**
 * ScreenMeet on the agent view: a "Start ScreenMeet" button on every person card, the start
 * dialog and the live sessions panel. `initScreenMeet({socket})` wires them to the page's
 * Socket.IO connection; it does nothing on a page without the ScreenMeet markup.
 */

import { StartDialog } from "./screenmeet-dialog.js";
import { SessionsPanel } from "./screenmeet-panel.js";

function initialState() {
  const block = document.getElementById("screenmeet-initial");
  try {
    return block ? JSON.parse(block.textContent) : null;
  } catch (err) {
    console.error("presence-dash: unreadable ScreenMeet state", err);
    return null;
  }
}

/** Cards are rendered by the template and by render.js; give each one its button. */
function addStartButtons(root) {
  for (const card of root.querySelectorAll(".person[data-person-id]")) {
    const body = card.querySelector(".person-body");
    if (!body || body.querySelector(".sm-start")) continue;
    const start = document.createElement("button");
    start.type = "button";
    start.className = "sm-start needs-agent";
    start.textContent = "Start ScreenMeet";
    start.setAttribute("aria-label", `Start ScreenMeet with ${card.dataset.name}`);
    body.append(start);
  }
}

export function initScreenMeet({ socket }) {
  const state = initialState();
  if (!state) return null;
  const panelRoot = document.getElementById("sm-panel");
  const panel = panelRoot ? new SessionsPanel({ root: panelRoot, sessions: state.sessions }) : null;
  const dialogNode = document.getElementById("sm-dialog");
  if (socket && panel) {
    socket.on("screenmeet", (event) => panel.onEvent(event));
    socket.on("connect", () => panel.refetch());
  }
  if (!state.enabled || !dialogNode) return { panel, dialog: null };

  const dialog = new StartDialog({
    dialog: dialogNode,
    config: state,
    onStarted: (session) => panel && panel.apply({ action: "created", session }),
  });
  const people = document.getElementById("people");
  addStartButtons(people);
  // Only added elements can be new cards; text updates (every second) are skipped cheaply.
  new MutationObserver((records) => {
    if (records.some((r) => [...r.addedNodes].some((n) => n.nodeType === 1))) {
      addStartButtons(people);
    }
  }).observe(people, { childList: true, subtree: true });
  people.addEventListener("click", (event) => {
    const start = event.target.closest(".sm-start");
    if (!start) return;
    const card = start.closest(".person");
    dialog.open({ id: card.dataset.personId, name: card.dataset.name });
  });
  return { panel, dialog };
}
