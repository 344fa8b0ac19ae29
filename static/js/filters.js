/** Agent-view filters: a name search and a team select, applied by toggling `hidden`. */

function fold(text) {
  return (text || "")
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase();
}

export class PeopleFilter {
  constructor({ root, search, team, count }) {
    Object.assign(this, { root, search, team, count });
    this.frame = 0;
    const later = () => this.schedule();
    search.addEventListener("input", later);
    team.addEventListener("change", () => {
      this.rememberTeam();
      later();
    });
    // The form only exists for its fields; Enter in the search box must not reload the page.
    search.form?.addEventListener("submit", (event) => event.preventDefault());
    this.apply();
  }

  schedule() {
    if (!this.frame) {
      this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        this.apply();
      });
    }
  }

  /** Keep ?team= in the address so a reload or a shared link shows the same team. */
  rememberTeam() {
    const url = new URL(window.location.href);
    if (this.team.value) url.searchParams.set("team", this.team.value);
    else url.searchParams.delete("team");
    history.replaceState(null, "", url);
  }

  matches(node, words, team) {
    if (team && node.dataset.team !== team) return false;
    if (!words.length) return true;
    const name = fold(node.dataset.name);
    return words.every((word) => name.includes(word));
  }

  /** Show matching people; hide team sections left empty. */
  apply() {
    const words = fold(this.search.value).split(/\s+/).filter(Boolean);
    const team = this.team.value;
    let shown = 0;
    let total = 0;
    for (const section of this.root.querySelectorAll("section.team")) {
      let visible = 0;
      for (const node of section.querySelectorAll(".person")) {
        const hide = !this.matches(node, words, team);
        if (node.hidden !== hide) node.hidden = hide;
        total += 1;
        if (!hide) visible += 1;
      }
      const hideSection = visible === 0;
      if (section.hidden !== hideSection) section.hidden = hideSection;
      shown += visible;
    }
    const empty = document.getElementById("no-people");
    if (empty) empty.hidden = shown > 0;
    if (this.count) this.count.textContent = shown === total ? `${total} people` : `${shown} of ${total} people`;
  }

  /** Filter people added after the first paint. */
  applyTo(node) {
    const words = fold(this.search.value).split(/\s+/).filter(Boolean);
    node.hidden = !this.matches(node, words, this.team.value);
    const section = node.closest("section.team");
    if (section && !node.hidden) section.hidden = false;
  }
}
