/* Boards and compare: the selection bar's Compare button, and the compare page's modes and
   slider. Without this file the compare page shows the two images side by side and every
   control is a plain link or form. */
(function () {
  "use strict";
  const $ = (sel, root = document) => root.querySelector(sel);
  const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

  /* ---------- Selection bar: Compare needs exactly two ---------- */
  function updateCompare() {
    const button = $("[data-selection-compare]");
    if (!button) return;
    const n = $$(".tile-check:checked").length;
    button.disabled = n !== 2;
    button.title = n === 2 ? "Compare the two selected images" : "Select exactly two images to compare";
  }
  function watchSelection() {
    updateCompare();
    // studio.js rewrites the count whenever the selection changes: follow it.
    $$("[data-selection-count]").forEach((el) => {
      new MutationObserver(updateCompare).observe(el, { childList: true, characterData: true, subtree: true });
    });
  }

  /* ---------- Compare: side by side or slider ---------- */
  function setPosition(root, value) {
    const pos = Math.min(100, Math.max(0, Number(value)));
    root.style.setProperty("--pos", `${pos}%`);
    const range = $("[data-compare-range]", root);
    if (range && Number(range.value) !== pos) range.value = String(pos);
    if (range) range.setAttribute("aria-valuetext", `${Math.round(pos)}% of A`);
  }

  function setMode(root, mode, push) {
    root.dataset.mode = mode;
    $$("[data-compare-mode]").forEach((link) => {
      const on = link.dataset.compareMode === mode;
      link.classList.toggle("is-current", on);
      if (on) link.setAttribute("aria-current", "true");
      else link.removeAttribute("aria-current");
    });
    if (push) {
      const url = new URL(location.href);
      url.searchParams.set("mode", mode);
      history.replaceState(null, "", url);
    }
  }

  function initCompare(root) {
    const frame = $("[data-compare-frame]", root);
    const range = $("[data-compare-range]", root);
    setMode(root, root.dataset.mode || "side", false);
    if (!frame || !range) return;
    setPosition(root, range.value);
    range.addEventListener("input", () => setPosition(root, range.value));

    let dragging = false;
    const follow = (event) => {
      const box = frame.getBoundingClientRect();
      setPosition(root, ((event.clientX - box.left) / box.width) * 100);
    };
    frame.addEventListener("pointerdown", (event) => {
      dragging = true;
      frame.setPointerCapture(event.pointerId);
      follow(event);
      event.preventDefault();
    });
    frame.addEventListener("pointermove", (event) => {
      if (dragging) follow(event);
    });
    const stop = () => { dragging = false; };
    frame.addEventListener("pointerup", stop);
    frame.addEventListener("pointercancel", stop);
  }

  document.addEventListener("click", (event) => {
    const link = event.target.closest("[data-compare-mode]");
    const root = $("[data-compare]");
    if (!link || !root || event.ctrlKey || event.metaKey) return;
    event.preventDefault();
    setMode(root, link.dataset.compareMode, true);
    if (link.dataset.compareMode === "slider") $("[data-compare-range]", root)?.focus({ preventScroll: true });
  });

  document.addEventListener("DOMContentLoaded", () => {
    watchSelection();
    const root = $("[data-compare]");
    if (root) initCompare(root);
  });
  document.addEventListener("htmx:load", updateCompare);
})();
