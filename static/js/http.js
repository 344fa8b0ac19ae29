/**
 * JSON calls to our own API, shared by the action modules: the page's CSRF token on every
 * state change (the server refuses them without it when sign-in is on), an optional
 * Idempotency-Key, and errors in the CONTRACT's shape turned into ApiError with the
 * server's own message.
 */

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status; // 0: the dashboard did not answer
    this.code = code;
  }
}

/** A random key; crypto.randomUUID needs a secure context, getRandomValues does not. */
export function newIdempotencyKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** fetch `url` as JSON; resolves to the parsed body, rejects with ApiError. */
export async function apiCall(method, url, { body, key } = {}) {
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
    throw new ApiError(0, "network", "The dashboard did not answer; try again.");
  }
  let data = null;
  try {
    data = await response.json();
  } catch (_) {
    data = null;
  }
  if (!response.ok) {
    const err = (data && data.error) || {};
    const fallback = response.status === 401 ? "Sign in first." : `HTTP ${response.status}`;
    throw new ApiError(response.status, err.code || "http_error", err.message || fallback);
  }
  return data;
}
