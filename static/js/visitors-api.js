/**
 * Glance visitor calls to our API (CONTRACT: /api/visitors). Actions carry the page's CSRF
 * token (when sign-in is on) and an Idempotency-Key made once per click: a retry after a lost
 * answer reuses it, so the visitor never gets the same invitation twice.
 */

import { apiCall, newIdempotencyKey } from "./http.js";


export const fetchVisitors = () => apiCall("GET", "/api/visitors");

/** POST with one retry on a network failure, same key (the server answers it once). */
async function postOnce(url, body) {
  const key = "v-" + newIdempotencyKey();
  try {
    return await apiCall("POST", url, { body, key });
  } catch (err) {
    if (err.status !== 0) throw err;
    return apiCall("POST", url, { body, key });
  }
}

const path = (visitor, action) => `/api/visitors/${encodeURIComponent(visitor.visitor_id)}/${action}`;

export function startCobrowse(visitor) {
  return postOnce(path(visitor, "cobrowse"), { group_id: visitor.group_id });
}

export function sendSignal(visitor, mtype, data) {
  return postOnce(path(visitor, "signal"), { group_id: visitor.group_id, mtype, data });
}
