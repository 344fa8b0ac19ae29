/**
 * Time-in-state text ("3m", "1h 20m") and clock text, measured on the server's clock:
 * a snapshot's server_time sets the offset, so a browser with a wrong clock still reads right.
 */

let offsetMs = 0;

/** Remember how far the server's clock is from ours (called with each snapshot's server_time). */
export function syncServerClock(serverTimeIso) {
  const t = Date.parse(serverTimeIso);
  if (!Number.isNaN(t)) offsetMs = t - Date.now();
}

export function serverNow() {
  return Date.now() + offsetMs;
}

/** 42 s -> "<1m", 12 min -> "12m", 80 min -> "1h 20m", 26 h -> "1d 2h". */
export function formatDuration(ms) {
  const minutes = Math.floor(Math.max(0, ms) / 60000);
  if (minutes < 1) return "<1m";
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 ? `${hours}h ${minutes % 60}m` : `${hours}h`;
  const days = Math.floor(hours / 24);
  return hours % 24 ? `${days}d ${hours % 24}h` : `${days}d`;
}

/** Text for a `since` time stamp, e.g. "for 12m"; empty when the time is missing or bad. */
export function sinceText(sinceIso, prefix = "") {
  const t = sinceIso ? Date.parse(sinceIso) : NaN;
  if (Number.isNaN(t)) return "";
  return prefix + formatDuration(serverNow() - t);
}

/** "14:05" in the viewer's time zone, for banners and the wall clock. */
export function formatClock(dateOrIso) {
  const d = typeof dateOrIso === "string" ? new Date(dateOrIso) : dateOrIso;
  return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

/**
 * The text of one `.since` element from its data-since and data-since-exact. prefixes, per
 * page: `exact` when `since` is when the state began, `inexact` when it is only when the
 * server first saw the state (PERSON since_exact false), e.g. {exact: "for ", inexact:
 * "for at least "}: a restart or a source without time stamps must not claim "for 2m".
 */
export function sinceElementText(el, prefixes) {
  if (el.dataset.sinceExact !== "false") return sinceText(el.dataset.since, prefixes.exact);
  // "for at least <1m" says nothing: no time until there is a first whole minute to claim.
  if (serverNow() - Date.parse(el.dataset.since) < 60000) return "";
  return sinceText(el.dataset.since, prefixes.inexact);
}

/** Rewrite every time-in-state text now and then every `intervalMs`; text nodes only. */
export function startSinceTicker(elements, prefixes, intervalMs = 15000) {
  const refresh = () => {
    for (const el of elements()) {
      const text = sinceElementText(el, prefixes);
      if (el.textContent !== text) el.textContent = text;
    }
  };
  refresh();
  return setInterval(refresh, intervalMs);
}
