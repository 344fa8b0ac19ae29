/** Words shown for statuses, provider states and provider names (templates/_macros.html too). */

const PROVIDER_LABELS = {
  servicenow: "ServiceNow",
  cisco: "Cisco",
  salesforce: "Salesforce",
  glance: "Glance",
  screenmeet: "ScreenMeet",
};

const STATE_LABELS = { ok: "OK", degraded: "Degraded", down: "Down", disabled: "Disabled" };

const capitalize = (word) => (word ? word[0].toUpperCase() + word.slice(1) : "");

export const statusWord = (status) => capitalize(status);
export const providerLabel = (name) => PROVIDER_LABELS[name] || capitalize(name);
export const stateLabel = (state) => STATE_LABELS[state] || state;
