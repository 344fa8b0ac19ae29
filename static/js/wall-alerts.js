/**
 * The wall half of threshold alerts (docs/api.md "Alerts"): each team tile says
 * "online n / min m" and turns to the alert colour with the reason while the team is short;
 * a person over their team's away or busy limit gets a flag on the card's status line, an
 * icon and words ("⚠ over 15m"), and the card an outline: never colour alone.
 */

import { el } from "./dom.js";

const FLAG_WORDS = { away_too_long: "away", busy_too_long: "busy" };

function readInitial() {
  const block = document.getElementById("initial-alerts");
  try {
    return JSON.parse(block.textContent);
  } catch (err) {
    return { alerts: [], teams: {} };
  }
}

export class WallAlerts {
  /** store: the PresenceStore (live online counts); onNew(alerts): alerts not seen before. */
  constructor({ store, onNew = () => {} }) {
    this.store = store;
    this.onNew = onNew;
    this.teams = {};
    this.teamAlerts = new Map(); // team -> below_minimum alert
    this.personAlerts = new Map(); // person id -> alert
    this.seen = null; // alert ids already shown (null: the first body, which never chimes)
    this.apply(readInitial());
  }

  /** A body of GET /api/alerts or of the `alerts` event. */
  apply(body) {
    if (!body || !Array.isArray(body.alerts)) return [];
    this.teams = body.teams || {};
    this.teamAlerts.clear();
    this.personAlerts.clear();
    for (const alert of body.alerts) {
      if (alert.kind === "below_minimum") this.teamAlerts.set(alert.team, alert);
      else if (alert.person_id) this.personAlerts.set(alert.person_id, alert);
    }
    const fresh = this.seen ? body.alerts.filter((a) => !this.seen.has(a.id)) : [];
    this.seen = new Set(body.alerts.map((a) => a.id));
    if (fresh.length) this.onNew(fresh);
    return fresh;
  }

  /** Update one tile ([data-team] .team-summary) from the live counts and the limits. */
  renderTile(tile) {
    const team = tile.dataset.team;
    const limits = this.teams[team] || {};
    const min = Number.isInteger(limits.min_online) ? limits.min_online : null;
    const staffing = tile.querySelector(".staffing");
    const online = this.store.teamCounts(team).online;
    // The same rule as the server (presence_dash/alerts.py): only `online` counts.
    const short = min !== null && online < min;
    staffing.hidden = min === null;
    if (min !== null) {
      setText(staffing.querySelector(".staffing-n"), String(online));
      setText(staffing.querySelector(".staffing-min"), String(min));
    }
    if (short) tile.dataset.short = "true";
    else delete tile.dataset.short;
    // The reason in words by the name ("⚠ Below min") over "online 3 / min 4", and the
    // server's message on hover.
    tile.querySelector(".team-alert").hidden = !short;
    const alert = this.teamAlerts.get(team);
    const title = short ? (alert && alert.message) || `${team}: ${online} online, minimum ${min}` : "";
    if (title) staffing.title = title;
    else staffing.removeAttribute("title");
  }

  /** Flag (or unflag) a card: `refs` from the renderer, the person shown on it. */
  decorate(refs, person) {
    const alert = this.personAlerts.get(person.id);
    const flagged = !!alert && FLAG_WORDS[alert.kind] === person.status;
    const node = refs.node;
    if (!flagged) {
      if (refs.flag) {
        refs.flag.remove();
        refs.flag = null;
        delete node.dataset.flagged;
      }
      return;
    }
    if (!refs.flag) {
      refs.flag = el("span", "flag");
      const icon = el("span", "flag-icon");
      icon.setAttribute("aria-hidden", "true");
      refs.flag.append(icon, el("span", "flag-text"));
      node.querySelector(".status-line").append(refs.flag);
    }
    node.dataset.flagged = alert.kind;
    // "⚠ Away over 15m · 42m": the time counts on in `.since`; the limit is the alert's.
    const word = FLAG_WORDS[alert.kind];
    const text = `${word[0].toUpperCase()}${word.slice(1)} over ${alert.threshold}m`;
    setText(refs.flag.querySelector(".flag-text"), text);
    if (refs.flag.title !== alert.message) refs.flag.title = alert.message;
  }
}

function setText(node, text) {
  if (node && node.textContent !== text) node.textContent = text;
}

/** A team tile as templates/wall.html renders it, for a team that appears later. */
export function buildTile(team, counts) {
  const tile = el("li", "team-summary");
  tile.dataset.team = team;
  const staffing = el("span", "staffing");
  staffing.hidden = true;
  staffing.append("online ", el("span", "staffing-n", "0"), " / min ", el("span", "staffing-min"));
  const icon = el("span", "staffing-icon");
  icon.setAttribute("aria-hidden", "true");
  const reason = el("span", "team-alert");
  reason.hidden = true;
  reason.append(icon, "Below min");
  const line = el("span", "team-line");
  line.append(el("span", "team-summary-name", team), " ", reason);
  tile.append(line, staffing, counts);
  return tile;
}
