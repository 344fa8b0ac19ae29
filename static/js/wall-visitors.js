/** The wall's visitor counts per Glance group, live from `visitors` events. */

import { fetchVisitors } from "./visitors-api.js";

export function initWallVisitors({ socket }) {
  const list = document.getElementById("visitor-counts");
  if (!list) return;
  let seq = -1;

  function accept(update) {
    if (!update || !update.counts) return;
    if (Number.isInteger(update.seq) && update.seq < seq) return;
    seq = update.seq;
    for (const item of list.querySelectorAll("[data-group-id]")) {
      const n = update.counts[item.dataset.groupId] || 0;
      const node = item.querySelector(".count-n");
      if (node.textContent !== String(n)) node.textContent = String(n);
      item.querySelector(".count-word").textContent = n === 1 ? "visitor" : "visitors";
    }
  }

  socket.on("visitors", accept);
  socket.on("connect", () => fetchVisitors().then(accept).catch(() => {}));
}
