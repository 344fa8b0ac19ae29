// The browser floor for static/js (docs/accessibility.md): Chromium 69 (TV sticks, webOS and
// Tizen sets) and Safari 14 (older iPads), as "browserslist" in package.json names them.
// `make lint-js` runs this; a feature newer than the floor fails `make test`.
//
// Three checks, since none covers everything alone:
// - eslint-plugin-es-x: language syntax and built-ins newer than ES2018 (`?.`, `??`, `.at()`,
//   Object.fromEntries, Object.hasOwn...), minus the few ES2019/2020 pieces both floor
//   browsers have.
// - eslint-plugin-compat: web APIs by the browserslist (structuredClone, requestIdleCallback,
//   new ResizeObserver, ...), from MDN's compatibility data.
// - no-restricted-syntax: calls of methods newer than the floor on any value (`.at()`,
//   `el.replaceChildren()`, `dialog.showModal()`), which neither plugin sees without types.
const compat = require("eslint-plugin-compat");
const esx = require("eslint-plugin-es-x");
const globals = require("globals");

// Newer than ES2018 yet in Chromium 69 and Safari 14 (MDN): allowed.
const FLOOR_HAS = {
  "es-x/no-array-prototype-flat": "off", // Chromium 69, Safari 12
  "es-x/no-optional-catch-binding": "off", // Chromium 66, Safari 11.1
  "es-x/no-string-prototype-trimstart-trimend": "off", // Chromium 66, Safari 12
  "es-x/no-json-superset": "off", // Chromium 66, Safari 12
  "es-x/no-dynamic-import": "off", // Chromium 63, Safari 11.1
  "es-x/no-import-meta": "off", // Chromium 64, Safari 11.1
};

// Methods the floor lacks, reported where they are called. es-x sees them only on values of
// a known type, and its "aggressive" mode also reports plain fields (a change's `at` time).
const FLOOR_LACKS = [
  ["at", "Array/String .at() is Chromium 92+, Safari 15.4+: use x[x.length - 1]"],
  ["findLast", "Chromium 97+, Safari 15.4+: loop from the end"],
  ["findLastIndex", "Chromium 97+, Safari 15.4+: loop from the end"],
  ["toSorted", "Chromium 110+: copy, then sort"],
  ["toReversed", "Chromium 110+: copy, then reverse"],
  ["replaceAll", "Chromium 85+: use .replace(/x/g, ...)"],
  ["matchAll", "Chromium 73+: loop over regex.exec"],
  ["replaceChildren", "Chromium 86+: node.textContent = '' then node.append(...)"],
  ["showModal", "<dialog> is Safari 15.4+: open dialogs through static/js/modal.js"],
  ["requestSubmit", "Safari 16+: form.dispatchEvent(new Event('submit'))"],
].map(([name, message]) => ({
  selector: `CallExpression > MemberExpression.callee[property.name='${name}']`,
  message: `.${name}(): ${message} (browser floor, docs/accessibility.md)`,
}));

module.exports = [
  {
    files: ["static/js/**/*.js"],
    ignores: ["static/vendor/**"],
    languageOptions: {
      // Parse everything so es-x can name the feature instead of a bare syntax error.
      ecmaVersion: "latest",
      sourceType: "module",
      globals: { ...globals.browser, io: "readonly" },
    },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    settings: {
      // Also flag APIs that are only behind a polyfill elsewhere: we ship none.
      polyfills: [],
    },
    plugins: { compat, "es-x": esx },
    rules: {
      ...esx.configs["flat/restrict-to-es2018"].rules,
      ...esx.configs["flat/restrict-to-es2018-intl-api"].rules,
      ...FLOOR_HAS,
      "compat/compat": "error",
      "no-restricted-syntax": ["error", ...FLOOR_LACKS],
    },
  },
];
