/**
 * ScreenMeet calls to our API (CONTRACT: /api/screenmeet/sessions). Every state change sends
 * the page's CSRF token, and creating sends an Idempotency-Key so a double click or a retry
 * after a lost answer never starts a second session.
 */

import { apiCall as call, newIdempotencyKey } from "./http.js";

export { newIdempotencyKey };

const BASE = "/api/screenmeet/sessions";

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
