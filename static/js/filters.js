/**
 * Agent-view filters: a name search and a team select, applied by toggling `hidden`. Each key
 * is answered at once in one pass over an index of the cards (names folded to lower case
 * without accents once, not per key), touching only cards whose visibility changes: at 5,000
 * people a key costs a few milliseconds (tests/browser/test_agent_view.py measures it).
 */

function fold(text) {
  return (text || "")
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase();
}

const words = (text) => fold(text).split(/\s+/).filter(Boolean);

export class PeopleFilter {
  constructor({ root, search, team, count }) {
    Object.assign(this, { root, search, team, count });
    this.index = null; // [{node, section, name (folded), team}], built on first use
    this.shownEntries = null; // the entries the last pass showed (see apply)
    this.byNode = new Map();
    search.addEventListener("input", () => this.apply());
    team.addEventListener("change", () => {
      this.rememberTeam();
      this.apply();
    });
    // The form only exists for its fields; Enter in the search box must not reload the page.
    if (search.form) search.form.addEventListener("submit", (event) => event.preventDefault());
    this.apply();
  }

  entry(node) {
    return {
      node,
      section: node.closest("section.team"),
      name: fold(node.dataset.name),
      team: node.dataset.team,
    };
  }

  build() {
    this.index = [...this.root.querySelectorAll(".person")].map((node) => this.entry(node));
    this.byNode = new Map(this.index.map((e) => [e.node, e]));
  }

  /** Keep ?team= in the address so a reload or a shared link shows the same team. */
  rememberTeam() {
    const url = new URL(window.location.href);
    if (this.team.value) url.searchParams.set("team", this.team.value);
    else url.searchParams.delete("team");
    history.replaceState(null, "", url);
  }

  static matches(entry, query, team) {
    if (team && entry.team !== team) return false;
    for (const word of query) if (!entry.name.includes(word)) return false;
    return true;
  }

  /** Show matching people; hide team sections left empty. One pass, no layout reads; a
   * query that only adds letters looks at the people shown now, not at everyone. */
  apply() {
    if (!this.index) this.build();
    const text = fold(this.search.value).trim();
    const query = words(text);
    const team = this.team.value;
    const narrower = this.shownEntries && team === this.lastTeam && text.startsWith(this.lastText);
    const candidates = narrower ? this.shownEntries : this.index;
    const shownEntries = [];
    const visible = new Set(); // sections with someone shown
    for (const entry of candidates) {
      const show = PeopleFilter.matches(entry, query, team);
      if (entry.node.hidden === show) entry.node.hidden = !show;
      if (show) {
        shownEntries.push(entry);
        visible.add(entry.section);
      }
    }
    // Without a space in between, "ad" -> "ada" only narrows; "ad" -> "ad l" adds a word and
    // narrows too; anything else (a deleted letter, another team) starts from everyone.
    this.shownEntries = shownEntries;
    this.lastText = text;
    this.lastTeam = team;
    const shown = shownEntries.length;
    for (const section of this.root.querySelectorAll("section.team")) {
      const hide = !visible.has(section);
      if (section.hidden !== hide) section.hidden = hide;
    }
    const empty = document.getElementById("no-people");
    if (empty) empty.hidden = shown > 0;
    const total = this.index.length;
    if (this.count) {
      const text = shown === total ? `${total} people` : `${shown} of ${total} people`;
      if (this.count.textContent !== text) this.count.textContent = text;
    }
  }

  /**
   * After a renderer frame: people added, removed, or changed (a new name or team moves the
   * card). Cheap when nothing the filter reads changed.
   */
  update({ added = [], removed = [], changed = [] }) {
    if (!this.index) return;
    if (removed.length) {
      this.shownEntries = null;
      this.build();
      this.apply();
      return;
    }
    let dirty = false;
    for (const node of added) {
      const entry = this.entry(node);
      this.index.push(entry);
      this.byNode.set(node, entry);
      dirty = true;
    }
    for (const node of changed) {
      const entry = this.byNode.get(node);
      if (!entry) continue;
      if (entry.team !== node.dataset.team || entry.name !== fold(node.dataset.name)) {
        Object.assign(entry, this.entry(node));
        dirty = true;
      }
    }
    if (dirty) {
      this.shownEntries = null; // new or moved people: this pass looks at everyone
      this.apply();
    }
  }
}
