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

/** Where the button goes: person cards (rendered by the template and by render.js) and the
 * rows of the Glance visitors panel, when it is on the page. */
const TARGETS = [
  {
    card: ".person[data-person-id]",
    slot: ".person-body",
    who: (card) => ({ personId: card.dataset.personId, name: card.dataset.name, type: "support" }),
  },
  {
    card: ".visitor[data-visitor-id]",
    slot: ".visitor-actions",
    who: (card) => ({ personId: null, name: `visitor ${card.dataset.visitorId}`, type: "cobrowse" }),
  },
];

function addStartButtons(root) {
  for (const target of TARGETS) {
    for (const card of root.querySelectorAll(target.card)) {
      const slot = card.querySelector(target.slot);
      if (!slot || slot.querySelector(".sm-start")) continue;
      const start = document.createElement("button");
      start.type = "button";
      start.className = "sm-start needs-agent";
      start.textContent = "Start ScreenMeet";
      start.setAttribute("aria-label", `Start ScreenMeet with ${target.who(card).name}`);
      slot.append(start);
    }
  }
}

function targetOf(button) {
  for (const target of TARGETS) {
    const card = button.closest(target.card);
    if (card) return target.who(card);
  }
  return null;
}

export function initScreenMeet({ socket }) {
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
  const roots = [document.getElementById("people"), document.getElementById("visitors-list")];
  for (const root of roots.filter(Boolean)) {
    addStartButtons(root);
    // Only added elements can be new cards; text updates (every second) are skipped cheaply.
    new MutationObserver((records) => {
      if (records.some((r) => [...r.addedNodes].some((n) => n.nodeType === 1))) {
        addStartButtons(root);
      }
    }).observe(root, { childList: true, subtree: true });
    root.addEventListener("click", (event) => {
      const start = event.target.closest(".sm-start");
      const who = start && targetOf(start);
      if (who) dialog.open(who);
    });
  }
  return { panel, dialog };
}
