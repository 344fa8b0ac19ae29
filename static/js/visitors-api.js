/**
 * Glance visitor calls to our API (CONTRACT: /api/visitors). Actions carry the page's CSRF
 * token (when sign-in is on) and an Idempotency-Key made once per click: a retry after a lost
 * answer reuses it, so the visitor never gets the same invitation twice.
 */

export class VisitorActionError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** A random key; crypto.randomUUID needs a secure context, getRandomValues does not. */
export function newIdempotencyKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return "v-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export async function fetchVisitors() {
  const response = await fetch("/api/visitors", {
    headers: { Accept: "application/json" },
    credentials: "same-origin",
  });
  if (!response.ok) throw new VisitorActionError(response.status, "http", `HTTP ${response.status}`);
  return response.json();
}

async function post(url, body, key) {
  const headers = { Accept: "application/json", "Content-Type": "application/json" };
  const meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) headers["X-CSRFToken"] = meta.content;
  headers["Idempotency-Key"] = key;
  const response = await fetch(url, {
    method: "POST",
    headers,
    credentials: "same-origin",
    body: JSON.stringify(body),
  });
  let data = null;
  try {
    data = await response.json();
  } catch (_) {
    data = null;
  }
  if (!response.ok) {
    const err = (data && data.error) || {};
    throw new VisitorActionError(response.status, err.code || "http", err.message || `HTTP ${response.status}`);
  }
  return data;
}

/** POST with one retry on a network failure, same key (the server answers it once). */
async function postOnce(url, body) {
  const key = newIdempotencyKey();
  try {
    return await post(url, body, key);
  } catch (err) {
    if (err instanceof VisitorActionError) throw err;
    try {
      return await post(url, body, key);
    } catch (again) {
      if (again instanceof VisitorActionError) throw again;
      throw new VisitorActionError(0, "network", "The dashboard did not answer; try again.");
    }
  }
}

const path = (visitor, action) => `/api/visitors/${encodeURIComponent(visitor.visitor_id)}/${action}`;

export function startCobrowse(visitor) {
  return postOnce(path(visitor, "cobrowse"), { group_id: visitor.group_id });
}

export function sendSignal(visitor, mtype, data) {
  return postOnce(path(visitor, "signal"), { group_id: visitor.group_id, mtype, data });
}
