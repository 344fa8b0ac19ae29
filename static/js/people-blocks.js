/**
 * The agent view's team lists in blocks of a fixed number of cards (templates/agent.html
 * renders them, `data-block` on #people says how many). Each block is contained
 * (`content-visibility: auto`, static/css/agent.css), so showing a team of 500 again lays
 * out and paints the blocks on the screen, not all of its cards. Every block but the last
 * of a team is full, so a team's grid has no short rows in the middle.
 */

import { compareNames, el, insertSorted, keepingFocus, mergeSorted } from "./dom.js";

/** Cards per block of the lists under `root`, or 0: the page has no blocks (the wall). */
export function blockSize(root) {
  return Number(root.dataset.block) || 0;
}

const newBlock = () => el("ul", "people-block");

/**
 * Put `nodes`, sorted by `key`, among the sorted cards of the blocks in `list` (each run in
 * the block where it sorts in), then refill the blocks so each but the last holds `size`.
 */
export function placeInBlocks(list, nodes, key, size) {
  let blocks = [...list.children];
  if (!blocks.length) {
    list.append(newBlock());
    blocks = [...list.children];
  }
  const runs = new Map(); // block -> the nodes that sort into it
  let b = 0;
  for (const node of nodes) {
    const k = key(node);
    // The first block whose last card sorts after the node; past all of them, the last.
    while (b < blocks.length - 1) {
      const last = blocks[b].lastElementChild;
      if (last && compareNames(key(last), k) > 0) break;
      b += 1;
    }
    if (!runs.has(blocks[b])) runs.set(blocks[b], []);
    runs.get(blocks[b]).push(node);
  }
  for (const [block, run] of runs) {
    if (run.length === 1) insertSorted(block, run[0], key, ".person");
    else mergeSorted(block, run, key, ".person");
  }
  refill(list, size);
}

/**
 * Move cards between neighbouring blocks (in runs, order kept) until every block but the
 * last holds `size` of them, and drop empty blocks. A balanced list moves nothing; one card
 * in or out moves one card per later block. A moved card that had the focus gets it back.
 */
export function refill(list, size) {
  keepingFocus(() => {
    const blocks = [...list.children];
    for (let i = 0; i < blocks.length; i += 1) {
      const block = blocks[i];
      let n = block.childElementCount;
      if (n > size) {
        if (i + 1 === blocks.length) {
          blocks.push(newBlock());
          list.append(blocks[i + 1]);
        }
        const extra = document.createDocumentFragment();
        extra.append(...[...block.children].slice(size));
        blocks[i + 1].insertBefore(extra, blocks[i + 1].firstChild);
        continue;
      }
      for (let j = i + 1; n < size && j < blocks.length; j += 1) {
        const take = [...blocks[j].children].slice(0, size - n);
        block.append(...take);
        n += take.length;
      }
    }
    for (const block of blocks) if (!block.firstElementChild) block.remove();
  });
}
