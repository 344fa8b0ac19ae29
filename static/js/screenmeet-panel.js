/**
 * The open ScreenMeet sessions panel: kept live by `screenmeet` events and refetched after a
 * reconnect (events sent while the socket was down are lost). Each session can be
 * rescheduled (while still scheduled) and closed; errors show on that session's row.
 */

import {
  closeSession,
  formatLocal,
  listSessions,
  localToUtc,
  newIdempotencyKey,
  rescheduleSession,
} from "./screenmeet-api.js";

// What a row shows: a row is rebuilt only when one of these changed.
const SHOWN = [
  "label",
  "status",
  "expired",
  "type",
  "parent_object_display_name",
  "start_time",
  "pin",
  "created_by",
];

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function button(className, text) {
  const node = el("button", `button ${className}`, text);
  node.type = "button";
  return node;
}

export class SessionsPanel {
  constructor({ root }) {
    this.root = root;
    this.list = root.querySelector("#sm-sessions");
    this.count = root.querySelector("#sm-panel-count");
    this.empty = root.querySelector("#sm-empty");
    this.sessions = new Map();
    this.loaded = false;
  }

  replace(sessions) {
    this.sessions = new Map(sessions.filter((s) => s.status !== "closed").map((s) => [s.id, s]));
    this.loaded = true;
    this.render();
  }

  /** The list comes from the API, whose access rule decides who may see it. */
  async refetch() {
    try {
      const { sessions } = await listSessions();
      this.replace(sessions);
    } catch (err) {
      if (!this.loaded) {
        this.empty.textContent =
          err.status === 401 || err.status === 403
            ? "Sign in as an agent to see sessions."
            : `Sessions unavailable: ${err.message}`;
      }
    }
  }

  /** A `screenmeet` event: {action, session}. Events carry no PIN or customer link (every
   * browser gets them); an agent's page fetches those with the list. */
  onEvent(event) {
    this.apply(event);
    if (event && event.session && event.session.status !== "closed") this.refetch();
  }

  apply({ session }) {
    if (!session || !session.id) return;
    if (session.status === "closed") this.sessions.delete(session.id);
    else this.sessions.set(session.id, { ...this.sessions.get(session.id), ...session });
    this.render();
  }

  /** Rows whose session did not change are kept as they are, so a refresh never closes a
   * reschedule form being filled in or resets a pending "Confirm close". */
  render() {
    const rows = new Map();
    const items = [...this.sessions.values()]
      .sort((a, b) => (b.created_at || "").localeCompare(a.created_at || ""))
      .map((s) => {
        const sig = JSON.stringify(SHOWN.map((key) => s[key]));
        const old = this.rows && this.rows.get(s.id);
        const node = old && old.sig === sig ? old.node : this.item(s);
        rows.set(s.id, { sig, node });
        return node;
      });
    this.rows = rows;
    const current = [...this.list.children];
    // Re-inserting a row would take the focus out of a field being typed in.
    if (current.length !== items.length || items.some((node, i) => node !== current[i])) {
      this.list.textContent = "";
      this.list.append(...items);
    }
    this.count.textContent = items.length ? `${items.length} open` : "";
    this.empty.textContent = "No open sessions.";
    this.empty.hidden = items.length > 0;
    // Empty, the panel is one line (screenmeet.css), not a box pushing people down.
    this.root.dataset.empty = String(items.length === 0);
  }

  item(s) {
    const row = el("li", "sm-session");
    row.dataset.smId = s.id;
    row.dataset.smStatus = s.status;
    const main = el("div", "sm-session-main");
    // Past expiresAt nobody can join any more; it stays listed until someone closes it.
    const badge = el("span", "sm-badge", s.expired ? `${s.status}, expired` : s.status);
    badge.dataset.smStatus = s.expired ? "closed" : s.status;
    main.append(el("span", "sm-session-label", s.label), badge);
    const meta = [s.type, s.parent_object_display_name];
    if (s.status === "scheduled") meta.push(`starts ${formatLocal(s.start_time)}`);
    if (s.pin) meta.push(`PIN ${s.pin}`);
    meta.push(`by ${s.created_by}`);
    const error = el("p", "sm-error");
    error.setAttribute("role", "alert");
    error.hidden = true;
    const actions = el("div", "sm-session-actions needs-agent");
    if (s.status === "scheduled") {
      const again = button("sm-reschedule", "Reschedule");
      again.addEventListener("click", () => this.openReschedule(row, s, error));
      actions.append(again);
    }
    const close = button("danger sm-close", "Close");
    close.addEventListener("click", () => this.close(close, s, error));
    actions.append(close);
    row.append(main, el("div", "sm-session-meta", meta.filter(Boolean).join(" · ")), actions, error);
    return row;
  }

  openReschedule(row, s, error) {
    if (row.querySelector(".sm-reschedule-form")) return;
    const form = el("form", "sm-reschedule-form");
    const input = el("input");
    input.type = "datetime-local";
    input.required = true;
    input.setAttribute("aria-label", "New start (your local time)");
    const save = button("primary", "Save");
    save.type = "submit";
    const cancel = button("", "Cancel");
    cancel.addEventListener("click", () => form.remove());
    form.append(input, save, cancel);
    let key = newIdempotencyKey();
    input.addEventListener("input", () => {
      key = newIdempotencyKey();
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const start = localToUtc(input.value);
      if (!start) return this.showError(error, "Pick the new date and time.");
      save.disabled = true;
      try {
        this.apply({ session: await rescheduleSession(s.id, start, key) });
      } catch (err) {
        this.showError(error, err.message);
        save.disabled = false;
      }
    });
    row.insertBefore(form, error);
    input.focus();
  }

  /** Closing ends the session for everyone in it: the first click asks, the second acts;
   * moving away from the button withdraws the question. */
  async close(node, s, error) {
    if (node.dataset.confirming !== "true") {
      node.dataset.confirming = "true";
      node.textContent = "Confirm close";
      node.focus();
      node.addEventListener(
        "blur",
        () => {
          node.dataset.confirming = "false";
          node.textContent = "Close";
        },
        { once: true },
      );
      return;
    }
    node.disabled = true;
    try {
      this.apply({ session: await closeSession(s.id, newIdempotencyKey()) });
    } catch (err) {
      this.showError(error, err.message);
      node.disabled = false;
    }
  }

  showError(node, message) {
    node.textContent = message;
    node.hidden = !message;
  }
}
