/**
 * Modal dialogs on every browser of the floor (docs/accessibility.md). A <dialog> opens with
 * showModal() where the browser has HTMLDialogElement; where it does not (Safari before 15.4,
 * older TV engines) the same element opens as a role="dialog" aria-modal box over a backdrop,
 * with the focus moved in and kept in, Escape to close and the focus given back on close.
 */

const FOCUSABLE =
  'button:not([disabled]), [href], input:not([disabled]):not([type="hidden"]), ' +
  'select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

const fallbacks = new WeakMap(); // node -> {backdrop, onKey, returnTo}

/** Whether the browser has <dialog>; a test deletes window.HTMLDialogElement to force the fallback. */
export function hasNativeDialog() {
  return "HTMLDialogElement" in window;
}

function visibleFocusables(node) {
  return Array.prototype.filter.call(
    node.querySelectorAll(FOCUSABLE),
    (el) => el.offsetWidth > 0 || el.offsetHeight > 0,
  );
}

/** Tab and Shift+Tab cycle inside `node` (a modal box or drawer) instead of leaving it. */
export function keepTabInside(node, event) {
  const items = visibleFocusables(node);
  if (!items.length) return;
  const first = items[0];
  const last = items[items.length - 1];
  if (event.shiftKey && document.activeElement === first) {
    event.preventDefault();
    last.focus();
  } else if (!event.shiftKey && document.activeElement === last) {
    event.preventDefault();
    first.focus();
  }
}

/** Open `node` (a <dialog>) as a modal. */
export function openModal(node) {
  if (hasNativeDialog()) {
    if (!node.open) node.showModal(); // eslint-disable-line no-restricted-syntax -- guarded
    return;
  }
  if (fallbacks.has(node)) return;
  const backdrop = document.createElement("div");
  backdrop.className = "modal-backdrop";
  node.parentNode.insertBefore(backdrop, node);
  const state = { backdrop, returnTo: document.activeElement, onKey: null };
  state.onKey = (event) => {
    if (event.key === "Escape" || event.key === "Esc") {
      event.preventDefault();
      closeModal(node);
    } else if (event.key === "Tab") {
      keepTabInside(node, event);
    }
  };
  fallbacks.set(node, state);
  node.setAttribute("role", "dialog");
  node.setAttribute("aria-modal", "true");
  node.classList.add("modal-fallback");
  node.setAttribute("open", "");
  document.addEventListener("keydown", state.onKey, true);
  const items = visibleFocusables(node);
  if (items.length) items[0].focus();
}

/** Close `node`; a "close" event follows either way, as <dialog> sends. */
export function closeModal(node) {
  if (hasNativeDialog()) {
    if (node.open) node.close();
    return;
  }
  const state = fallbacks.get(node);
  if (!state) return;
  fallbacks.delete(node);
  document.removeEventListener("keydown", state.onKey, true);
  state.backdrop.remove();
  node.removeAttribute("open");
  node.classList.remove("modal-fallback");
  if (state.returnTo && state.returnTo.focus) state.returnTo.focus();
  node.dispatchEvent(new Event("close"));
}
