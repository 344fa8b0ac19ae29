/**
 * Agent-view filters: a name search and a team select, applied by toggling `hidden`. Each key
 * is answered at once in one pass over an index of the cards (names folded to lower case
 * without accents once, not per key), touching only cards whose visibility changes; a team
 * choice hides the other teams' sections whole instead of each of their cards, and a block of
 * cards with nobody shown is hidden with them (people-blocks.js). At 5,000 people a key costs
 * a few milliseconds (tests/browser/test_agent_view.py and benchmarks/bench_browser.py
 * measure it). Until everyone's card is built (setLoading) the count and the note at the end
 * of the list say how many are still coming.
 */

function fold(text) {
  return (text || "")
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase();
}

const words = (text) => fold(text).split(/\s+/).filter(Boolean);

export class PeopleFilter {
  /** loadingNote: the element that says how many people are not built yet (optional). */
  constructor({ root, search, team, count, loadingNote = null, expected = 0 }) {
    Object.assign(this, { root, search, team, count, loadingNote });
    this.index = null; // [{node, section, name (folded), team}], built on first use
    this.byTeam = new Map(); // team -> its entries
    this.shownEntries = null; // the entries the last pass showed (see apply)
    this.byNode = new Map();
    this.expected = expected; // people in the page once everyone is built (0: they are)
    this.blocks = root.getElementsByClassName("people-block"); // live: see parts()
    search.addEventListener("input", () => this.apply());
    team.addEventListener("change", () => {
      this.apply();
      // The address follows once the choice settles (arrow keys run through the select):
      // a replaceState is a same-document navigation, milliseconds the answer need not wait.
      clearTimeout(this.remembering);
      this.remembering = setTimeout(() => this.rememberTeam(), 250);
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
    this.byTeam = new Map();
    for (const entry of this.index) this.file(entry);
  }

  file(entry) {
    if (!this.byTeam.has(entry.team)) this.byTeam.set(entry.team, []);
    this.byTeam.get(entry.team).push(entry);
  }

  /** Everyone's card is built (false), or `expected` people are on their way. */
  setLoading(expected) {
    this.expected = expected || 0;
    this.showCount(this.shownEntries ? this.shownEntries.length : 0);
  }

  /** Keep ?team= in the address so a reload or a shared link shows the same team. */
  rememberTeam() {
    const url = new URL(window.location.href);
    if (this.team.value) url.searchParams.set("team", this.team.value);
    else url.searchParams.delete("team");
    history.replaceState(null, "", url);
  }

  static matches(entry, query) {
    for (const word of query) if (!entry.name.includes(word)) return false;
    return true;
  }

  /** Show matching people; hide team sections left empty. One pass, no layout reads; a
   * query that only adds letters looks at the people shown now, not at everyone, and a
   * chosen team only at its own people (the other sections are hidden whole). */
  apply() {
    if (!this.index) this.build();
    const text = fold(this.search.value).trim();
    const query = words(text);
    const team = this.team.value;
    const narrower = this.shownEntries && team === this.lastTeam && text.startsWith(this.lastText);
    let candidates = this.index;
    if (narrower) candidates = this.shownEntries;
    else if (team) candidates = this.byTeam.get(team) || [];
    const shownEntries = [];
    const visible = new Set(); // sections and blocks of cards (people-blocks.js) shown
    for (const entry of candidates) {
      const show = PeopleFilter.matches(entry, query);
      if (entry.node.hidden === show) entry.node.hidden = !show;
      if (show) {
        shownEntries.push(entry);
        visible.add(entry.section);
        visible.add(entry.node.parentNode);
      }
    }
    // Without a space in between, "ad" -> "ada" only narrows; "ad" -> "ad l" adds a word and
    // narrows too; anything else (a deleted letter, another team) starts from everyone.
    this.shownEntries = shownEntries;
    this.lastText = text;
    this.lastTeam = team;
    // A block whose cards are all hidden is hidden too: it would keep its placeholder height.
    for (const part of this.parts()) {
      const hide = !visible.has(part);
      if (part.hidden !== hide) part.hidden = hide;
    }
    this.showCount(shownEntries.length);
  }

  /** The team sections (children of the root) and their blocks of cards. Not a selector
   * query: that walks every card's subtree, 2 ms a key at 5,000 people; the live list of
   * blocks follows the renderer's new and dropped blocks and costs nothing while unchanged. */
  *parts() {
    for (const child of this.root.children) if (child.classList.contains("team")) yield child;
    yield* this.blocks;
  }

  showCount(shown) {
    const total = this.index ? this.index.length : 0;
    const loading = this.expected > total;
    const empty = document.getElementById("no-people");
    if (empty) empty.hidden = shown > 0 || loading;
    if (this.loadingNote) {
      this.loadingNote.hidden = !loading;
      const note = `Loading the other ${this.expected - total} people…`;
      if (loading && this.loadingNote.textContent !== note) this.loadingNote.textContent = note;
    }
    if (!this.count) return;
    const filtered = this.search.value.trim() !== "" || this.team.value !== "";
    let text = shown === total ? `${total} people` : `${shown} of ${total} people`;
    if (loading && !filtered) text = `Showing ${shown} of ${this.expected} people, loading the rest…`;
    else if (loading) text = `${shown} found so far, loading the other ${this.expected - total} people…`;
    if (this.count.textContent !== text) this.count.textContent = text;
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
      this.file(entry);
      dirty = true;
    }
    let moved = false;
    for (const node of changed) {
      const entry = this.byNode.get(node);
      if (!entry) continue;
      if (entry.team !== node.dataset.team || entry.name !== fold(node.dataset.name)) {
        moved = moved || entry.team !== node.dataset.team;
        Object.assign(entry, this.entry(node));
        dirty = true;
      }
    }
    if (moved) this.build();
    if (dirty) {
      this.shownEntries = null; // new or moved people: this pass looks at everyone
      this.apply();
    }
  }
}
