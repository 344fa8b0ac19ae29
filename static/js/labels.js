/** Words shown for statuses, provider states and provider names (templates/_macros.html too). */

const PROVIDER_LABELS = {
  servicenow: "ServiceNow",
  cisco: "Cisco",
  salesforce: "Salesforce",
  glance: "Glance",
  screenmeet: "ScreenMeet",
};

// One word per status, the same as the template's status_words; the dot's shape and colour
// say it too, never alone.
const STATUS_WORDS = {
  online: "Online",
  busy: "Busy",
  away: "Away",
  offline: "Offline",
  unknown: "Unknown",
};

const STATE_LABELS = { ok: "OK", degraded: "Degraded", down: "Down", disabled: "Disabled" };

const capitalize = (word) => (word ? word[0].toUpperCase() + word.slice(1) : "");

export const statusWord = (status) => STATUS_WORDS[status] || capitalize(status);
/** The activity as the card shows it: none where it would only repeat the status word
 * (a source that reports "Away" for away), as in templates/_macros.html person_card. */
export const activityText = (person) =>
  person.activity && person.activity.toLowerCase() !== statusWord(person.status).toLowerCase()
    ? person.activity
    : "";
export const providerLabel = (name) => PROVIDER_LABELS[name] || capitalize(name);
export const stateLabel = (state) => STATE_LABELS[state] || state;
