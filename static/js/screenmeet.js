/**
 * ScreenMeet on the agent view: "Start ScreenMeet…" in every person card's actions menu
 * (card-menu.js), a button on every web-site visitor's row, the start dialog and the live
 * sessions panel. `initScreenMeet({socket, menu})` wires them to the page's Socket.IO
 * connection; it does nothing on a page without the ScreenMeet markup.
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

/** Visitor rows (the Glance panel) get a button: there are few of them, and a row has room. */
const VISITOR = ".visitor[data-visitor-id]";
const visitorWho = (row) => ({
  personId: null,
  name: `visitor ${row.dataset.visitorId}`,
  type: "cobrowse",
});
const personWho = (card) => ({
  personId: card.dataset.personId,
  name: card.dataset.name,
  type: "support",
});

function addStartButtons(root) {
  for (const row of root.querySelectorAll(VISITOR)) {
    const slot = row.querySelector(".visitor-actions");
    if (!slot || slot.querySelector(".sm-start")) continue;
    const start = document.createElement("button");
    start.type = "button";
    start.className = "sm-start needs-agent";
    start.textContent = "Start ScreenMeet";
    start.setAttribute("aria-label", `Start ScreenMeet with ${visitorWho(row).name}`);
    slot.append(start);
  }
}

export function initScreenMeet({ socket, menu = null }) {
  const state = initialState();
  if (!state) return null;
  const panelRoot = document.getElementById("sm-panel");
  const panel = panelRoot ? new SessionsPanel({ root: panelRoot }) : null;
  if (panel) panel.refetch();
  const dialogNode = document.getElementById("sm-dialog");
  if (socket && panel) {
    socket.on("screenmeet", (event) => panel.onEvent(event));
    socket.on("connect", () => panel.refetch());
  }
  if (!dialogNode) return { panel, dialog: null };

  const dialog = new StartDialog({
    dialog: dialogNode,
    config: state,
    onStarted: (session) => panel && panel.apply({ action: "created", session }),
  });
  if (menu) {
    menu.addAction({
      action: "screenmeet",
      label: "Start ScreenMeet…",
      className: "needs-agent",
      run: (card) => dialog.open(personWho(card)),
    });
  }
  const visitors = document.getElementById("visitors-list");
  if (visitors) {
    addStartButtons(visitors);
    // Only added elements can be new rows; text updates are skipped cheaply.
    new MutationObserver((records) => {
      if (records.some((r) => [...r.addedNodes].some((n) => n.nodeType === 1))) {
        addStartButtons(visitors);
      }
    }).observe(visitors, { childList: true, subtree: true });
    visitors.addEventListener("click", (event) => {
      const start = event.target.closest(".sm-start");
      const row = start && start.closest(VISITOR);
      if (row) dialog.open(visitorWho(row));
    });
  }
  return { panel, dialog };
}
