/* Justified rows for the gallery: each row is filled edge to edge with whole images at their own
   shape (each tile's --w / --h), its height as close to the gallery's --row as the images allow.
   The CSS alone (flex-grow by aspect) already shows every image uncropped; this picks better row
   breaks, so that one square is never blown up to fill a row by itself. It re-runs when the
   gallery's width changes and when tiles are added, paged in or swapped out of band. */
(function () {
  "use strict";
  const watched = new WeakSet();
  const aspect = (tile) => {
    const w = parseFloat(tile.style.getPropertyValue("--w"));
    const h = parseFloat(tile.style.getPropertyValue("--h"));
    return w > 0 && h > 0 ? w / h : 1;
  };

  function justify(gallery) {
    const width = gallery.clientWidth;
    if (!width) return;
    const style = getComputedStyle(gallery);
    const gap = parseFloat(style.columnGap) || 0;
    const target = parseFloat(style.getPropertyValue("--row")) || 200;
    const heightOf = (sum, n) => (width - gap * (n - 1)) / sum;
    const place = (row, height) => {
      // Rounded down to a hundredth of a pixel, so a full row never spills onto the next line.
      row.forEach((tile) => {
        tile.style.width = `${Math.floor(aspect(tile) * height * 100) / 100}px`;
      });
    };
    let row = [];
    let sum = 0;
    for (const tile of gallery.children) {
      if (!tile.classList.contains("tile")) continue;
      row.push(tile);
      sum += aspect(tile);
      const height = heightOf(sum, row.length);
      if (height > target) continue;
      // The row is full. End it here, or before this tile if that is nearer the row height.
      const without = row.length > 1 ? heightOf(sum - aspect(tile), row.length - 1) : Infinity;
      if (without / target < target / height) {
        place(row.slice(0, -1), without);
        row = [tile];
        sum = aspect(tile);
        if (heightOf(sum, 1) <= target) {
          place(row, heightOf(sum, 1));
          row = [];
          sum = 0;
        }
      } else {
        place(row, height);
        row = [];
        sum = 0;
      }
    }
    place(row, target); // the last row is not stretched
    gallery.classList.add("is-justified");
  }

  function watch(gallery) {
    if (watched.has(gallery)) return;
    watched.add(gallery);
    let queued = false;
    const later = () => {
      if (queued) return;
      queued = true;
      requestAnimationFrame(() => {
        queued = false;
        justify(gallery);
      });
    };
    new ResizeObserver(later).observe(gallery);
    new MutationObserver(later).observe(gallery, { childList: true });
    justify(gallery);
  }

  function scan(root) {
    if (root.matches?.(".gallery")) watch(root);
    root.querySelectorAll?.(".gallery").forEach(watch);
  }
  document.addEventListener("DOMContentLoaded", () => scan(document));
  document.addEventListener("htmx:load", (event) => scan(event.detail.elt));
})();
