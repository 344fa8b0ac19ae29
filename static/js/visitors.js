/**
 * The agent view's visitors panel: the Glance visitor list kept live from `visitors` events
 * (each carries the whole list with its seq; older ones are ignored), refetched on every
 * reconnect, rendered once per animation frame. Co-browse and Signal buttons show pending /
 * sent / failed on the visitor's row; that state survives re-renders.
 */

import { el } from "./dom.js";
import { closeModal, openModal } from "./modal.js";
import { sinceText } from "./timefmt.js";
import { fetchVisitors, sendSignal, startCobrowse } from "./visitors-api.js";

const keyOf = (v) => `${v.group_id}/${v.visitor_id}`;
const STATE_TEXT = { pending: "Sending…", sent: "Sent", failed: "Failed" };
const SENT_FADE_MS = 8000;

function initialData() {
  const block = document.getElementById("visitors-initial");
  try {
    return JSON.parse(block.textContent);
  } catch (_) {
    return { seq: 0, enabled: false, visitors: [] };
  }
}

/** The page text Glance reported: title, then the URL, then anything else. */
function describe(metadata) {
  const meta = { ...(metadata || {}) };
  const parts = [];
  for (const key of ["title", "url"]) {
    if (meta[key]) parts.push(String(meta[key]));
    delete meta[key];
  }
  for (const [key, value] of Object.entries(meta)) {
    if (value !== null && value !== "") parts.push(`${key}: ${value}`);
  }
  return parts.join(" · ");
}

export function buildVisitor(visitor) {
  const item = el("li", "visitor");
  item.dataset.visitorId = visitor.visitor_id;
  item.dataset.groupId = String(visitor.group_id);
  const icon = el("span", "visitor-icon");
  icon.setAttribute("aria-hidden", "true");
  const body = el("span", "visitor-body");
  const head = el("span", "visitor-head");
  head.append(el("span", "visitor-id", visitor.visitor_id), " ");
  const since = el("span", "visitor-since");
  since.dataset.since = visitor.since || "";
  head.append(since);
  body.append(head, el("span", "visitor-meta", describe(visitor.metadata)));
  const actions = el("span", "visitor-actions needs-agent");
  const cobrowse = el("button", "button primary visitor-cobrowse", "Co-browse");
  cobrowse.type = "button";
  cobrowse.dataset.action = "cobrowse";
  const signal = el("button", "button visitor-signal", "Signal…");
  signal.type = "button";
  signal.dataset.action = "signal";
  const state = el("span", "action-state");
  state.setAttribute("role", "status");
  actions.append(cobrowse, signal, state);
  item.append(icon, body, actions);
  return item;
}

export function initVisitors({ socket }) {
  const panel = document.getElementById("visitors-panel");
  if (!panel) return null; // Glance is not configured
  const list = document.getElementById("visitors-list");
  const count = document.getElementById("visitors-count");
  const empty = document.getElementById("visitors-empty");
  const notice = document.getElementById("visitors-notice");
  const dialog = new SignalDialog(document.getElementById("signal-dialog"));

  let data = initialData();
  const actionState = new Map(); // visitor key -> {state, message, at}
  let frame = 0;

  function accept(update) {
    if (!update || !Array.isArray(update.visitors)) return;
    if (Number.isInteger(update.seq) && update.seq < data.seq) return; // an older list
    data = { ...data, ...update };
    schedule();
  }

  function schedule() {
    if (!frame) frame = requestAnimationFrame(render);
  }

  function render() {
    frame = 0;
    const present = new Set();
    const rows = data.visitors.map((visitor) => {
      const key = keyOf(visitor);
      present.add(key);
      const row = buildVisitor(visitor);
      applyState(row, actionState.get(key));
      return row;
    });
    list.textContent = "";
    list.append(...rows);
    for (const key of [...actionState.keys()]) if (!present.has(key)) actionState.delete(key);
    count.textContent = `${data.visitors.length} present`;
    empty.hidden = data.visitors.length > 0;
    panel.dataset.empty = String(data.visitors.length === 0); // one line, not a box (visitors.css)
    tick();
  }

  function applyState(row, entry) {
    const state = row.querySelector(".action-state");
    const pending = entry && entry.state === "pending";
    for (const button of row.querySelectorAll("button")) button.disabled = Boolean(pending);
    row.dataset.actionState = entry ? entry.state : "";
    state.dataset.state = entry ? entry.state : "";
    state.textContent = entry ? entry.message || STATE_TEXT[entry.state] : "";
    state.title = state.textContent;
  }

  function setState(visitor, state, message) {
    actionState.set(keyOf(visitor), { state, message, at: Date.now() });
    const row = list.querySelector(
      `.visitor[data-visitor-id="${CSS.escape(visitor.visitor_id)}"][data-group-id="${visitor.group_id}"]`
    );
    if (row) applyState(row, actionState.get(keyOf(visitor)));
    if (state === "sent") {
      setTimeout(() => {
        const entry = actionState.get(keyOf(visitor));
        if (entry && entry.state === "sent" && Date.now() - entry.at >= SENT_FADE_MS - 50) {
          actionState.delete(keyOf(visitor));
          schedule();
        }
      }, SENT_FADE_MS);
    }
  }

  async function run(visitor, label, action) {
    const entry = actionState.get(keyOf(visitor));
    if (entry && entry.state === "pending") return; // a double click: the first one is on its way
    setState(visitor, "pending", `${label}: sending…`);
    try {
      await action();
      setState(visitor, "sent", `${label}: sent`);
      notice.hidden = true;
    } catch (err) {
      setState(visitor, "failed", `${label} failed: ${err.message}`);
      notice.textContent = `${label} for ${visitor.visitor_id} failed: ${err.message}`;
      notice.hidden = false;
      if (err.code === "visitor_gone") refresh();
    }
  }

  list.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button || button.disabled) return;
    const row = button.closest(".visitor");
    const visitor = data.visitors.find(
      (v) => v.visitor_id === row.dataset.visitorId && String(v.group_id) === row.dataset.groupId
    );
    if (!visitor) return;
    if (button.dataset.action === "cobrowse") {
      run(visitor, "Co-browse", () => startCobrowse(visitor));
    } else {
      dialog.open(visitor, (mtype, payload) =>
        run(visitor, "Signal", () => sendSignal(visitor, mtype, payload))
      );
    }
  });

  function tick() {
    for (const node of list.querySelectorAll(".visitor-since")) {
      const text = sinceText(node.dataset.since, "for ");
      if (node.textContent !== text) node.textContent = text;
    }
  }

  async function refresh() {
    try {
      accept(await fetchVisitors());
    } catch (err) {
      console.warn("presence-dash: could not fetch visitors", err);
    }
  }

  socket.on("visitors", accept);
  // Events missed while disconnected are not replayed: fetch the list after every connect.
  socket.on("connect", refresh);
  setInterval(tick, 15000);
  render();
  return { accept, refresh };
}

/** The signal dialog: message type and a JSON payload, checked before it is sent. */
class SignalDialog {
  constructor(node) {
    this.node = node;
    this.form = node.querySelector("form");
    this.error = node.querySelector(".signal-error");
    this.target = node.querySelector(".signal-target");
    this.onSend = null;
    node.querySelector("[data-close]").addEventListener("click", () => closeModal(node));
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
  }

  open(visitor, onSend) {
    this.onSend = onSend;
    this.target.textContent = visitor.visitor_id;
    this.error.hidden = true;
    openModal(this.node);
  }

  submit() {
    const mtype = this.form.elements.mtype.value;
    let payload;
    try {
      payload = JSON.parse(this.form.elements.data.value || "{}");
    } catch (err) {
      return this.fail(`Data is not valid JSON: ${err.message}`);
    }
    if (!payload || typeof payload !== "object" || Array.isArray(payload)) {
      return this.fail("Data must be a JSON object, e.g. {\"command\": \"startchat\"}.");
    }
    if (mtype === "invoke" && !/^GLANCE(\.[A-Za-z_][A-Za-z0-9_]*)+$/.test(payload.func || "")) {
      return this.fail("invoke needs data.func naming a Glance function, e.g. GLANCE.Cobrowse.Visitor.startSession.");
    }
    closeModal(this.node);
    this.onSend(mtype, payload);
  }

  fail(message) {
    this.error.textContent = message;
    this.error.hidden = false;
  }
}
