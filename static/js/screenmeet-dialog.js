/**
 * The "Start ScreenMeet" dialog: type, record, label, the options the chosen type supports
 * (the vendor's table, sent by the server), an optional start time; then the customer link
 * and PIN with copy buttons and the "Open host view" link. Vendor errors stay in the dialog.
 */

import { closeModal, openModal } from "./modal.js";
import { localToUtc, newIdempotencyKey, startSession, formatLocal } from "./screenmeet-api.js";

export class StartDialog {
  /** config: the server's {types, prefs: {name: {label, types}}}; onStarted(session). */
  constructor({ dialog, config, onStarted }) {
    this.dialog = dialog;
    this.config = config;
    this.onStarted = onStarted;
    this.form = dialog.querySelector("#sm-form");
    this.result = dialog.querySelector("#sm-result");
    this.error = dialog.querySelector("#sm-error");
    this.submit = dialog.querySelector("#sm-submit");
    this.type = dialog.querySelector("#sm-type");
    this.key = null;
    this.busy = false;
    this.who = null;

    this.type.addEventListener("change", () => this.showPrefsForType());
    // "Person" as the record: the person the dialog was opened for is the obvious one.
    dialog.querySelector("#sm-table").addEventListener("change", (event) => {
      const record = dialog.querySelector("#sm-record");
      if (event.target.value === "sys_user" && !record.value && this.who && this.who.personId) {
        record.value = this.who.name;
      }
    });
    // A changed form is a different request: it gets its own idempotency key. An unchanged
    // form submitted again (a double click, a retry after an error) keeps the key.
    this.form.addEventListener("input", () => {
      this.key = newIdempotencyKey();
    });
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.send();
    });
    dialog.querySelector("#sm-cancel").addEventListener("click", () => closeModal(dialog));
    dialog.querySelector("#sm-done").addEventListener("click", () => closeModal(dialog));
    for (const button of dialog.querySelectorAll("[data-copy]")) {
      button.addEventListener("click", () => this.copy(button));
    }
  }

  /** Open for someone: {personId (null for a web-site visitor), name, type (the default)}. */
  open(who) {
    this.form.reset();
    this.form.hidden = false;
    this.result.hidden = true;
    this.showError("");
    this.who = who;
    this.dialog.querySelector("#sm-person-id").value = who.personId || "";
    this.dialog.querySelector("#sm-person-name").textContent = who.name;
    if (who.type) this.type.value = who.type;
    // The browser's picker then refuses past times too (the server checks regardless).
    const now = new Date(Date.now() - new Date().getTimezoneOffset() * 60000);
    this.dialog.querySelector("#sm-start").min = now.toISOString().slice(0, 16);
    this.showPrefsForType();
    this.key = newIdempotencyKey();
    openModal(this.dialog);
    this.type.focus();
  }

  /** Only the options the chosen type supports are offered; the others are unticked. */
  showPrefsForType() {
    const type = this.type.value;
    let shown = 0;
    for (const label of this.dialog.querySelectorAll(".sm-pref")) {
      const applies = label.dataset.types.split(" ").includes(type);
      label.hidden = !applies;
      const box = label.querySelector("input");
      box.disabled = !applies;
      if (!applies) box.checked = false;
      if (applies) shown += 1;
    }
    this.dialog.querySelector("#sm-no-prefs").hidden = shown > 0;
    this.dialog.querySelector("#sm-label").placeholder = `Remote ${type} session for …`;
  }

  body() {
    const data = new FormData(this.form);
    const prefs = {};
    for (const box of this.dialog.querySelectorAll(".sm-pref input:not(:disabled)")) {
      prefs[box.value] = box.checked;
    }
    return {
      type: data.get("type"),
      parent_object_table: data.get("parent_object_table"),
      parent_object_sys_id: (data.get("parent_object_sys_id") || "").trim(),
      parent_object_display_name: (data.get("parent_object_display_name") || "").trim(),
      label: (data.get("label") || "").trim(),
      prefs,
      start_time: localToUtc(data.get("start_local")),
      person_id: data.get("person_id") || null,
    };
  }

  async send() {
    if (this.busy) return; // the key covers a click that gets past this too
    const body = this.body();
    if (!body.parent_object_display_name) {
      this.showError("Enter the record's number or name (e.g. INC0000005).");
      this.dialog.querySelector("#sm-record").focus();
      return;
    }
    if (this.dialog.querySelector("#sm-start").value && !body.start_time) {
      this.showError("The start time is not a valid date and time.");
      return;
    }
    this.busy = true;
    this.submit.disabled = true;
    this.submit.textContent = body.start_time ? "Scheduling…" : "Starting…";
    this.showError("");
    try {
      const session = await startSession(body, this.key);
      this.showResult(session);
      this.onStarted(session);
    } catch (err) {
      this.showError(err.message);
    } finally {
      this.busy = false;
      this.submit.disabled = false;
      this.submit.textContent = "Start session";
    }
  }

  showResult(session) {
    this.form.hidden = true;
    this.result.hidden = false;
    const scheduled = session.status === "scheduled";
    this.dialog.querySelector("#sm-result-title").textContent = scheduled
      ? "Session scheduled"
      : "Session ready";
    this.dialog.querySelector("#sm-result-status").textContent = scheduled
      ? `Starts ${formatLocal(session.start_time)}; the PIN is issued 10 minutes before.`
      : `${session.label} (${session.type}). Give the customer the link or the PIN.`;
    this.dialog.querySelector("#sm-user-url").value = session.user_url || "";
    this.dialog.querySelector("#sm-pin").value = session.pin || "";
    this.dialog.querySelector("#sm-pin-row").hidden = !session.pin;
    const host = this.dialog.querySelector("#sm-host-link");
    host.href = session.host_url || "#";
    host.hidden = !session.host_url;
    const notes = this.dialog.querySelector("#sm-notes");
    notes.textContent = "";
    notes.append(
      ...(session.notes || []).map((text) => {
        const item = document.createElement("li");
        item.textContent = text;
        return item;
      }),
    );
    this.dialog.querySelector("#sm-copied").textContent = "";
    this.dialog.querySelector("#sm-done").focus();
  }

  async copy(button) {
    const field = this.dialog.querySelector(`#${button.dataset.copy}`);
    const status = this.dialog.querySelector("#sm-copied");
    try {
      await navigator.clipboard.writeText(field.value);
      status.textContent = `${button.textContent.replace("Copy ", "")} copied.`.replace(/^./, (c) => c.toUpperCase());
    } catch (_) {
      // No clipboard access (plain http on a LAN address): select it for Ctrl+C instead.
      field.select();
      status.textContent = "Press Ctrl+C to copy.";
    }
  }

  showError(message) {
    this.error.textContent = message;
    this.error.hidden = !message;
  }
}
