/**
 * ScreenMeet calls to our API (CONTRACT: /api/screenmeet/sessions). Every state change sends
 * the page's CSRF token, and creating sends an Idempotency-Key so a double click or a retry
 * after a lost answer never starts a second session.
 */

const BASE = "/api/screenmeet/sessions";

export class ScreenMeetError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** A random key; crypto.randomUUID needs a secure context, getRandomValues does not. */
export function newIdempotencyKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function call(method, url, { body, key } = {}) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") {
    const meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) headers["X-CSRFToken"] = meta.content;
  }
  if (key) headers["Idempotency-Key"] = key;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new ScreenMeetError(0, "network", "The dashboard did not answer; try again.");
  }
  let data = null;
  try {
    data = await response.json();
  } catch (_) {
    data = null;
  }
  if (!response.ok) {
    const err = (data && data.error) || {};
    throw new ScreenMeetError(response.status, err.code || "http_error", err.message || `HTTP ${response.status}`);
  }
  return data;
}

export const listSessions = () => call("GET", `${BASE}?closed=0`);
export const startSession = (body, key) => call("POST", BASE, { body, key });
export const rescheduleSession = (id, startTime, key) =>
  call("PATCH", `${BASE}/${encodeURIComponent(id)}`, { body: { start_time: startTime }, key });
export const closeSession = (id, key) =>
  call("DELETE", `${BASE}/${encodeURIComponent(id)}`, { key });

/** A `datetime-local` value (the agent's local time) as ISO 8601 UTC, or null when empty. */
export function localToUtc(value) {
  if (!value) return null;
  const moment = new Date(value);
  return Number.isNaN(moment.getTime()) ? null : moment.toISOString();
}

/** An ISO time as a short local date and time for the agent. */
export function formatLocal(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}
