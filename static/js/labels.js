/** Words shown for statuses, provider states and provider names (templates/_macros.html too). */

// Provider names come from the provider registry through the page (base.html's
// #provider-labels JSON block), so no script names a vendor; read once, on first use.
let providerLabels = null;

const readProviderLabels = () => {
  const block = typeof document === "undefined" ? null : document.getElementById("provider-labels");
  try {
    return (block && JSON.parse(block.textContent)) || {};
  } catch (err) {
    return {}; // a page without the block: names are capitalised
  }
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
export const providerLabel = (name) => {
  if (providerLabels === null) providerLabels = readProviderLabels();
  return providerLabels[name] || capitalize(name);
};
export const stateLabel = (state) => STATE_LABELS[state] || state;
