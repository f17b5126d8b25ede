/* The gallery's lightbox: a tile's image opens full size in a modal dialog; the arrow keys
   (and the buttons, or a swipe on a phone) move through the tiles on the page, in order,
   paging the gallery in when the last one is reached; 1 / 0 (or the button) switch between
   actual pixels and fit, and a zoomed image pans by dragging or with the arrow keys. The
   address carries ?view=<id>, so a link opens the same image. Without this file a tile
   links to its image page. */
(function () {
  "use strict";
  const dialog = document.querySelector("[data-lightbox]");
  if (!dialog) return;
  const part = (name) => dialog.querySelector(`[data-lb-${name}]`);
  const stage = part("stage");
  // The <img> is in the page only while the lightbox is open (a closed one has nothing to load).
  const img = document.createElement("img");
  img.className = "lightbox-img";
  img.dataset.lbImg = "";
  img.alt = "";
  img.draggable = false;
  const spinner = part("spinner");
  const zoomButton = part("zoom");
  const prevButton = part("prev");
  const nextButton = part("next");
  const PAN_STEP = 80;

  let current = null; // the tile's [data-view] link being shown
  let zoomed = false;
  let loadingMore = null;

  const viewers = () => Array.from(document.querySelectorAll(".gallery .tile [data-view]")).filter((v) => v.dataset.full);
  const hasMore = () => !!document.getElementById("gallery-more");
  const find = (id) => viewers().find((v) => v.dataset.view === id);

  /* ---------- The address ---------- */
  function setAddress(id) {
    const url = new URL(location.href);
    if (id) url.searchParams.set("view", id);
    else url.searchParams.delete("view");
    if (url.href !== location.href) history.replaceState(history.state, "", url);
  }

  /* ---------- Size: fit the stage, or the image's own pixels ---------- */
  function naturalSize() {
    const thumb = current?.querySelector("img");
    const w = img.naturalWidth || Number(thumb?.getAttribute("width")) || 1;
    const h = img.naturalHeight || Number(thumb?.getAttribute("height")) || 1;
    return [w, h];
  }

  function layout() {
    if (!current) return;
    const [w, h] = naturalSize();
    const pad = getComputedStyle(stage);
    const room = stage.clientWidth - parseFloat(pad.paddingLeft) - parseFloat(pad.paddingRight);
    const tall = stage.clientHeight - parseFloat(pad.paddingTop) - parseFloat(pad.paddingBottom);
    const scale = zoomed ? 1 : Math.min(1, room / w, tall / h);
    img.style.width = `${Math.round(w * scale)}px`;
    img.style.height = `${Math.round(h * scale)}px`;
  }

  function setZoom(on, at) {
    const before = img.getBoundingClientRect();
    zoomed = on;
    dialog.classList.toggle("is-zoomed", on);
    zoomButton.setAttribute("aria-pressed", String(on));
    part("zoom-label").textContent = on ? "Fit" : "100%";
    layout();
    if (!on) return;
    // Keep the point that was clicked (or the middle) where it was.
    const frame = stage.getBoundingClientRect();
    const px = at ? at.x : frame.left + frame.width / 2;
    const py = at ? at.y : frame.top + frame.height / 2;
    const fx = before.width ? (px - before.left) / before.width : 0.5;
    const fy = before.height ? (py - before.top) / before.height : 0.5;
    const [w, h] = naturalSize();
    stage.scrollLeft = fx * w - (px - frame.left);
    stage.scrollTop = fy * h - (py - frame.top);
  }

  /* ---------- Showing one image ---------- */
  function show(viewer) {
    current = viewer;
    const tile = viewer.closest(".tile");
    const thumb = viewer.querySelector("img");
    const list = viewers();
    const index = list.indexOf(viewer);
    zoomed = false;
    dialog.classList.remove("is-zoomed");
    zoomButton.setAttribute("aria-pressed", "false");
    part("zoom-label").textContent = "100%";
    img.removeAttribute("src");
    if (!img.isConnected) part("canvas").append(img);
    // The thumbnail stands in, stretched to the full size's box, until the full image arrives.
    img.style.backgroundImage = thumb?.currentSrc || thumb?.src ? `url("${thumb.currentSrc || thumb.src}")` : "";
    img.alt = thumb?.alt || "";
    spinner.hidden = false;
    layout();
    img.src = viewer.dataset.full;
    const [w, h] = naturalSize();
    part("prompt").textContent = tile?.querySelector(".tile-link")?.textContent.trim() || img.alt;
    part("meta").textContent = `${w} × ${h} px`;
    part("position").textContent = `${index + 1} of ${list.length}${hasMore() ? "+" : ""}`;
    part("page").href = viewer.getAttribute("href");
    prevButton.disabled = index <= 0;
    nextButton.disabled = index >= list.length - 1 && !hasMore();
    setAddress(viewer.dataset.view);
    [list[index - 1], list[index + 1]].forEach((v) => {
      if (v) new Image().src = v.dataset.full;
    });
  }

  img.addEventListener("load", () => {
    spinner.hidden = true;
    img.style.backgroundImage = "";
    layout();
  });
  img.addEventListener("error", () => {
    spinner.hidden = true;
  });

  function open(viewer) {
    if (!dialog.open) {
      dialog.showModal();
      document.documentElement.classList.add("lightbox-open");
    }
    show(viewer);
    stage.focus({ preventScroll: true });
  }

  function close() {
    if (dialog.open) dialog.close();
  }

  dialog.addEventListener("close", () => {
    document.documentElement.classList.remove("lightbox-open");
    const id = current?.dataset.view;
    current = null;
    img.remove();
    img.removeAttribute("src");
    setAddress(null);
    // Focus goes back to the tile of the image last shown (it may have been paged in meanwhile).
    const back = id && find(id);
    if (back) back.focus();
  });

  /* ---------- Moving through the gallery ---------- */
  // Page the gallery in (its "Load older images" sentinel); resolves true when tiles were added.
  function loadMore() {
    const more = document.getElementById("gallery-more");
    const gallery = more?.parentElement;
    if (!more || !gallery || !window.htmx) return Promise.resolve(false);
    if (loadingMore) return loadingMore;
    const before = viewers().length;
    loadingMore = new Promise((resolve) => {
      const finish = (grew) => {
        observer.disconnect();
        clearTimeout(timer);
        loadingMore = null;
        resolve(grew);
      };
      const observer = new MutationObserver(() => {
        if (viewers().length > before) finish(true);
        else if (!document.getElementById("gallery-more")) finish(false);
      });
      observer.observe(gallery, { childList: true });
      const timer = setTimeout(() => finish(false), 15000);
      if (!more.classList.contains("htmx-request")) {
        window.htmx.ajax("GET", more.getAttribute("hx-get"), { source: more, target: more, swap: "outerHTML" });
      }
    });
    return loadingMore;
  }

  async function step(delta) {
    if (!current) return;
    let list = viewers();
    let index = list.indexOf(current);
    if (index + delta >= list.length && delta > 0 && (await loadMore())) {
      list = viewers();
      index = list.indexOf(current);
    }
    const next = list[index + delta];
    if (next && dialog.open) show(next);
  }

  prevButton.addEventListener("click", () => step(-1));
  nextButton.addEventListener("click", () => step(1));
  part("close").addEventListener("click", close);
  zoomButton.addEventListener("click", () => setZoom(!zoomed));

  /* ---------- Keyboard: move, zoom, pan, and keep the focus inside ---------- */
  function focusables() {
    return Array.from(dialog.querySelectorAll("a[href], button:not(:disabled)")).filter((el) => el.offsetParent !== null);
  }

  dialog.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const key = event.key;
    if (key === "Tab") {
      const items = focusables();
      if (!items.length) return;
      const first = items[0];
      const last = items[items.length - 1];
      const inside = items.includes(document.activeElement);
      if (event.shiftKey && (document.activeElement === first || !inside)) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && (document.activeElement === last || !inside)) {
        event.preventDefault();
        first.focus();
      }
      return;
    }
    const pan = event.shiftKey ? PAN_STEP * 4 : PAN_STEP;
    const moves = {
      ArrowLeft: () => (zoomed ? stage.scrollBy(-pan, 0) : step(-1)),
      ArrowRight: () => (zoomed ? stage.scrollBy(pan, 0) : step(1)),
      ArrowUp: () => zoomed && stage.scrollBy(0, -pan),
      ArrowDown: () => zoomed && stage.scrollBy(0, pan),
      PageUp: () => step(-1),
      PageDown: () => step(1),
      1: () => setZoom(true),
      "+": () => setZoom(true),
      "=": () => setZoom(true),
      0: () => setZoom(false),
      "-": () => setZoom(false),
      z: () => setZoom(!zoomed),
    };
    const move = moves[key];
    if (!move) return;
    event.preventDefault();
    move();
  });

  /* ---------- Pointer: click to zoom, drag to pan, swipe to move ---------- */
  let drag = null;
  stage.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    // The capture below retargets the rest of the gesture to the stage: remember what was pressed.
    drag = { x: event.clientX, y: event.clientY, left: stage.scrollLeft, top: stage.scrollTop, moved: false, target: event.target };
    stage.setPointerCapture(event.pointerId);
  });
  stage.addEventListener("pointermove", (event) => {
    if (!drag) return;
    const dx = event.clientX - drag.x;
    const dy = event.clientY - drag.y;
    if (Math.abs(dx) + Math.abs(dy) > 4) drag.moved = true;
    if (zoomed) {
      stage.scrollLeft = drag.left - dx;
      stage.scrollTop = drag.top - dy;
    }
  });
  stage.addEventListener("pointerup", (event) => {
    if (!drag) return;
    const { x, y, moved, target } = drag;
    drag = null;
    const dx = event.clientX - x;
    const dy = event.clientY - y;
    if (!zoomed && moved && Math.abs(dx) > 50 && Math.abs(dx) > Math.abs(dy) * 1.5) {
      step(dx < 0 ? 1 : -1);
    } else if (!moved && target === img) {
      setZoom(!zoomed, { x: event.clientX, y: event.clientY });
    } else if (!moved && !zoomed) {
      close(); // a click beside the image
    }
  });
  stage.addEventListener("pointercancel", () => {
    drag = null;
  });

  new ResizeObserver(() => {
    if (!zoomed) layout();
  }).observe(stage);

  /* ---------- Opening ---------- */
  document.addEventListener("click", (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
    const viewer = event.target.closest(".tile [data-view]");
    if (!viewer || !viewer.dataset.full) return;
    event.preventDefault();
    open(viewer);
  });

  // A shared address (?view=<id>): open that image, paging the gallery in to find it; an image
  // the gallery does not show (filtered out, or far back) opens on its own page instead.
  async function openFromAddress() {
    const id = new URL(location.href).searchParams.get("view");
    if (!id) return;
    let viewer = find(id);
    for (let pages = 0; !viewer && pages < 10 && (await loadMore()); pages++) viewer = find(id);
    if (viewer) open(viewer);
    else location.assign(dialog.dataset.imageUrl.replace("__id__", encodeURIComponent(id)));
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", openFromAddress);
  else openFromAddress();
})();
