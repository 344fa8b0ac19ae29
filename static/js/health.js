/**
 * How trustworthy the data is: the connection indicator and banner, the provider health strip
 * and the stale-data banner.
 */

import { el } from "./dom.js";
import { providerLabel, stateLabel } from "./labels.js";
import { formatClock } from "./timefmt.js";

const CONNECTION_TEXT = { connecting: "Connecting…", live: "Live", reconnecting: "Reconnecting…" };

// While the socket is down nothing says how the providers are doing: the pills say "unknown"
// (data-state stays the last known one, for when the connection is back).
let connectionLost = false;

function showPillState(item) {
  const text = connectionLost ? "Unknown" : stateLabel(item.dataset.state);
  const node = item.querySelector(".provider-state");
  if (node && node.textContent !== text) node.textContent = text;
  if (connectionLost) item.dataset.unknown = "true";
  else delete item.dataset.unknown;
}

/** Show the socket state: #connection-state text, #connection-banner when it is lost, and
 * the provider pills as unknown meanwhile. */
export function showConnectionState(state) {
  connectionLost = state === "reconnecting";
  for (const item of document.querySelectorAll("#provider-strip .provider")) showPillState(item);
  const indicator = document.getElementById("connection-state");
  if (indicator) {
    indicator.dataset.state = state;
    indicator.textContent = CONNECTION_TEXT[state] || state;
  }
  const banner = document.getElementById("connection-banner");
  if (banner) banner.hidden = state !== "reconnecting";
  document.body.dataset.connection = state;
}

function pill(name) {
  const item = el("li", "provider");
  item.dataset.provider = name;
  const icon = el("span", "provider-icon");
  icon.setAttribute("aria-hidden", "true");
  item.append(icon, el("span", "provider-name", providerLabel(name)), " ");
  item.append(el("span", "provider-state"), " ", el("span", "provider-error"));
  return item;
}

/** One pill per provider: icon + name + state, and the error for degraded or down ones. */
export function renderProviderStrip(list, providers) {
  if (!list) return;
  const existing = new Map([...list.children].map((item) => [item.dataset.provider, item]));
  for (const name of Object.keys(providers).sort()) {
    const prov = providers[name];
    let item = existing.get(name);
    if (!item) {
      item = pill(name);
      list.append(item);
    }
    existing.delete(name);
    item.dataset.state = prov.state;
    const troubled = prov.state === "degraded" || prov.state === "down";
    const error = troubled ? prov.error || "" : "";
    showPillState(item);
    item.querySelector(".provider-error").textContent = connectionLost ? "" : error;
    if (prov.error) item.title = prov.error;
    else item.removeAttribute("title");
  }
  for (const stale of existing.values()) stale.remove();
}

/** Providers that are down, or that some person's source is stale for. */
export function staleProviders(store) {
  const names = new Set(store.staleSources());
  for (const [name, prov] of Object.entries(store.providers)) {
    if (prov.state === "down") names.add(name);
  }
  return [...names].sort();
}

/** "Stale data: ServiceNow has not refreshed since 14:02" in #stale-banner, or hide it. */
export function renderStaleBanner(banner, store) {
  if (!banner) return;
  const names = staleProviders(store);
  banner.hidden = names.length === 0;
  if (!names.length) return;
  const parts = names.map((name) => {
    const last = store.providers[name] && store.providers[name].last_success;
    const when = last ? `since ${formatClock(last)}` : "yet";
    return `${providerLabel(name)} has not refreshed ${when}`;
  });
  const text = `Stale data: ${parts.join("; ")}`;
  const target = banner.querySelector(".banner-text") || banner;
  if (target.textContent !== text) target.textContent = text;
}
