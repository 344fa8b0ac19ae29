/**
 * The person cards' actions menu: one "⋯" button per card opens the one shared menu
 * (#card-menu) beside it. Keyboard: Enter/Space/ArrowDown on the button opens it on the first
 * item, ArrowUp/ArrowDown/Home/End move, Escape closes and gives the focus back to the button,
 * Tab closes. Other modules add items with addAction (ScreenMeet adds "Start ScreenMeet…").
 */

export class CardMenu {
  /** root: the element holding the cards; menu: #card-menu; onTimeline(card): "Show timeline". */
  constructor({ root, menu, onTimeline }) {
    Object.assign(this, { root, menu });
    this.actions = new Map(); // data-action -> run(card, trigger)
    this.trigger = null;
    this.card = null;
    this.actions.set("timeline", (card) => onTimeline(card));

    root.addEventListener("click", (event) => {
      const button = event.target.closest(".card-actions");
      if (!button) return;
      event.stopPropagation(); // not a click on the card (that opens the timeline)
      if (this.trigger === button) this.close(true);
      else this.open(button, false);
    });
    root.addEventListener("keydown", (event) => {
      const button = event.target.closest(".card-actions");
      if (button && event.key === "ArrowDown") {
        event.preventDefault();
        this.open(button, true);
      }
    });
    menu.addEventListener("click", (event) => {
      const item = event.target.closest("[data-action]");
      if (item) this.run(item.dataset.action);
    });
    menu.addEventListener("keydown", (event) => this.onKey(event));
    document.addEventListener("pointerdown", (event) => {
      if (this.trigger && !menu.contains(event.target) && event.target !== this.trigger) {
        this.close(false);
      }
    });
    window.addEventListener("resize", () => this.close(false));
    // The menu is placed for where the button was: scrolling leaves it behind, so it goes.
    window.addEventListener("scroll", () => this.close(false), { passive: true });
  }

  /** A menu item: {action, label, className}; run(card, trigger) when it is chosen. */
  addAction({ action, label, className = "", run }) {
    const item = document.createElement("button");
    item.type = "button";
    item.className = `card-menu-item ${className}`.trim();
    item.setAttribute("role", "menuitem");
    item.dataset.action = action;
    item.textContent = label;
    this.menu.append(item);
    this.actions.set(action, run);
  }

  items() {
    // Items hidden for this role (.needs-agent for viewers) are not offered.
    return [...this.menu.querySelectorAll("[role=menuitem]")].filter((i) => i.offsetParent !== null);
  }

  open(button, focusFirst) {
    if (this.trigger) this.close(false);
    this.trigger = button;
    this.card = button.closest(".person");
    button.setAttribute("aria-expanded", "true");
    this.menu.hidden = false;
    this.place(button);
    const items = this.items();
    // A pointer opens it too: focus moves in either way, so the keys work at once.
    if (items.length) items[0].focus();
    else if (focusFirst) button.focus();
  }

  /** Below the button, right-aligned with it; above it when there is no room below. */
  place(button) {
    const r = button.getBoundingClientRect();
    const m = this.menu.getBoundingClientRect();
    const below = r.bottom + 4 + m.height <= window.innerHeight;
    const top = below ? r.bottom + 4 : Math.max(4, r.top - 4 - m.height);
    const left = Math.max(4, Math.min(r.right - m.width, window.innerWidth - m.width - 4));
    this.menu.style.top = `${Math.round(top)}px`;
    this.menu.style.left = `${Math.round(left)}px`;
  }

  close(returnFocus) {
    const trigger = this.trigger;
    if (!trigger) return;
    this.trigger = null;
    this.menu.hidden = true;
    trigger.setAttribute("aria-expanded", "false");
    if (returnFocus) trigger.focus();
  }

  run(action) {
    const card = this.card;
    const trigger = this.trigger;
    const fn = this.actions.get(action);
    this.close(true); // the focus is back on the card before a dialog takes it (and returns it)
    if (fn && card) fn(card, trigger);
  }

  onKey(event) {
    const items = this.items();
    const at = items.indexOf(document.activeElement);
    const moveTo = (i) => items[(i + items.length) % items.length].focus();
    if (event.key === "Escape") {
      event.preventDefault();
      this.close(true);
    } else if (event.key === "Tab") {
      this.close(true);
    } else if (event.key === "ArrowDown") {
      event.preventDefault();
      moveTo(at + 1);
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      moveTo(at - 1);
    } else if (event.key === "Home") {
      event.preventDefault();
      moveTo(0);
    } else if (event.key === "End") {
      event.preventDefault();
      moveTo(items.length - 1);
    }
  }
}
