/* Studio: the little JavaScript HTMX cannot do. No framework; every feature
   degrades to plain HTML forms and links when this file does not run. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  const $ = (sel, root = document) => root.querySelector(sel);
  const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
  const isTyping = (el) =>
    el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  // Typing proper: a tick box or a button has the focus after a click, and keys still belong to the page.
  const isWriting = (el) => isTyping(el) && !(el.tagName === "INPUT" && /^(checkbox|radio|button|submit|reset|range|color)$/.test(el.type));

  /* ---------- Dialogs: the shortcuts overlay and confirmation dialogs ---------- */
  function openDialog(dialog) {
    if (dialog && !dialog.open) dialog.showModal();
  }
  document.addEventListener("click", (event) => {
    const opener = event.target.closest("[data-dialog-open]");
    if (opener) {
      event.preventDefault();
      openDialog(document.getElementById(opener.dataset.dialogOpen));
      return;
    }
    if (event.target.closest("[data-shortcuts-open]")) {
      openDialog($("#shortcuts"));
      return;
    }
    const closer = event.target.closest("[data-dialog-close]");
    if (closer) {
      closer.closest("dialog").close();
      return;
    }
    // A click on the backdrop (the dialog element itself, outside its box) closes it.
    if (event.target.tagName === "DIALOG") {
      const r = event.target.getBoundingClientRect();
      const inside = event.clientX >= r.left && event.clientX <= r.right && event.clientY >= r.top && event.clientY <= r.bottom;
      if (!inside) event.target.close();
    }
  });

  /* ---------- Toasts ---------- */
  function armToasts(root) {
    $$(".toast", root).forEach((toast) => {
      if (toast.dataset.armed) return;
      toast.dataset.armed = "1";
      const remove = () => toast.remove();
      toast.querySelector("[data-dismiss]")?.addEventListener("click", remove);
      if (!toast.classList.contains("toast-error")) setTimeout(remove, 6000);
    });
  }

  /* ---------- Copy buttons: data-copy="#id" copies that element's value/text ---------- */
  document.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-copy], [data-copy-text]");
    if (!button) return;
    event.preventDefault();
    let text = button.dataset.copyText;
    if (text === undefined) {
      const source = document.querySelector(button.dataset.copy);
      text = source ? ("value" in source && source.value !== undefined ? source.value : source.textContent) : "";
    }
    try {
      await navigator.clipboard.writeText(text.trim());
    } catch (err) {
      // Clipboard API refused (insecure origin): fall back to selecting a temporary field.
      const area = document.createElement("textarea");
      area.value = text.trim();
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      document.execCommand("copy");
      area.remove();
    }
    const label = button.dataset.copiedLabel || "Copied";
    const original = button.dataset.originalLabel || button.textContent;
    button.dataset.originalLabel = original;
    button.textContent = label;
    setTimeout(() => { button.textContent = original; }, 1600);
  });

  /* ---------- Global keyboard shortcuts ---------- */
  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.altKey) return;
    const typing = isTyping(event.target);
    if (event.key === "?" && !typing && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      openDialog($("#shortcuts"));
    } else if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey) {
      const search = $("[data-search]");
      if (search) {
        event.preventDefault();
        search.focus();
        search.select();
      }
    }
  });

  /* ---------- The prompt form ---------- */
  function updateCharCount(form) {
    const area = $("[data-char-source]", form);
    const out = $("[data-char-count]", form);
    if (!area || !out) return;
    const max = Number(area.dataset.max) || 1000;
    const n = [...area.value.trim()].length; // code points, as the server counts (an emoji is one)
    out.textContent = `${n} / ${max}`;
    out.classList.toggle("is-near", n > max * 0.9 && n <= max);
    out.classList.toggle("is-over", n > max);
  }

  function updateRatio(form) {
    const checked = $("input[name=aspect_ratio]:checked", form);
    const hint = $("[data-ratio-size]", form);
    if (hint) hint.textContent = checked ? checked.dataset.size : "";
  }

  function updateStyle(form) {
    const checked = $("input[name=style]:checked", form);
    const help = $("[data-style-help]", form);
    if (help) help.textContent = checked ? checked.dataset.description || "" : "";
  }

  function updatePalette(form) {
    const palette = $("[data-palette]", form);
    if (!palette) return;
    const count = $$("[data-swatch]", palette).length;
    const max = Number(palette.dataset.max) || 8;
    const add = $("[data-palette-add]", palette);
    if (add) add.hidden = count >= max;
    const empty = $("[data-palette-empty]", palette);
    if (empty) empty.hidden = count > 0;
    $$("[data-swatch]", palette).forEach((swatch, i) => {
      const input = $("input[type=color]", swatch);
      input.setAttribute("aria-label", `Palette colour ${i + 1}`);
      $("[data-swatch-remove]", swatch).setAttribute("aria-label", `Remove colour ${input.value}`);
    });
  }

  // Pleasant defaults for each new colour, so a new swatch is never a surprise black.
  const SUGGESTED = ["#6d4aff", "#ff6b4a", "#1e3a8a", "#f5c542", "#14b8a6", "#ec4899", "#0f172a", "#e2e8f0"];

  function addColor(form) {
    const palette = $("[data-palette]", form);
    const template = $("[data-swatch-template]", form);
    if (!palette || !template) return;
    const used = new Set($$("input[type=color]", palette).map((i) => i.value.toLowerCase()));
    const colour = SUGGESTED.find((c) => !used.has(c)) || "#888888";
    const swatch = template.content.firstElementChild.cloneNode(true);
    $("input[type=color]", swatch).value = colour;
    $(".swatch-hex", swatch).textContent = colour;
    palette.insertBefore(swatch, $("[data-palette-add]", palette));
    updatePalette(form);
    $("input[type=color]", swatch).focus();
  }

  function updateCost(form) {
    const price = Number(form.dataset.price) || 0;
    const balance = Number(form.dataset.balance) || 0;
    const checked = $("input[name=count]:checked", form);
    const count = checked ? Number(checked.value) : 1;
    const total = price * count;
    const cost = $("[data-cost]", form);
    if (cost) cost.textContent = `${price} credits × ${count} = ${total}`;
    const short = $("[data-cost-short]", form);
    if (short) {
      short.hidden = total <= balance;
      const needed = $("[data-cost-needed]", short);
      if (needed) needed.textContent = String(total);
    }
    const label = $("[data-generate-label]", form);
    if (label) label.textContent = count > 1 ? `Generate ${count} images` : "Generate";
  }

  // The credits pill is the balance's one source on the page: a cancel, a refund on a poll or a
  // new image swaps it out of band, and the form's cost line follows it here.
  function syncBalance() {
    const form = $("#gen-form");
    const amount = $("#credits-pill [data-balance]");
    if (!form || !amount || form.dataset.balance === amount.dataset.balance) return;
    form.dataset.balance = amount.dataset.balance;
    $$("[data-balance-text]", form).forEach((el) => { el.textContent = amount.dataset.balance; });
    updateCost(form);
  }
  document.addEventListener("htmx:afterSettle", syncBalance);

  function updateSeed(form) {
    const fixed = $("input[name=seed_mode][value=fixed]", form);
    const input = $("input[name=seed]", form);
    if (fixed && input) input.classList.toggle("is-dim", !fixed.checked);
  }

  function initForm(form) {
    updateCharCount(form);
    updateRatio(form);
    updateStyle(form);
    updatePalette(form);
    updateCost(form);
    updateSeed(form);
  }

  document.addEventListener("input", (event) => {
    const form = event.target.closest("#gen-form");
    if (!form) return;
    const t = event.target;
    if (t.matches("[data-char-source]")) updateCharCount(form);
    if (t.matches("input[type=color]")) {
      const hex = t.closest("[data-swatch]")?.querySelector(".swatch-hex");
      if (hex) hex.textContent = t.value;
      updatePalette(form);
    }
    if (t.matches("input[name=seed]") && t.value !== "") {
      const fixed = $("input[name=seed_mode][value=fixed]", form);
      if (fixed) fixed.checked = true;
      updateSeed(form);
    }
  });

  document.addEventListener("change", (event) => {
    const form = event.target.closest("#gen-form");
    if (!form) return;
    const name = event.target.name;
    if (name === "aspect_ratio") updateRatio(form);
    if (name === "style") updateStyle(form);
    if (name === "count") updateCost(form);
    if (name === "seed_mode") {
      updateSeed(form);
      if (event.target.value === "fixed") $("input[name=seed]", form)?.focus();
    }
  });

  document.addEventListener("click", (event) => {
    const form = event.target.closest("#gen-form");
    if (!form) return;
    if (event.target.closest("[data-palette-add]")) {
      event.preventDefault();
      addColor(form);
    } else if (event.target.closest("[data-swatch-remove]")) {
      event.preventDefault();
      const swatch = event.target.closest("[data-swatch]");
      const next = swatch.nextElementSibling;
      swatch.remove();
      updatePalette(form);
      (next?.querySelector("input") || next)?.focus?.();
    }
  });

  // Keep the prompt focused across the form's HTMX swap, so Ctrl/⌘+Enter can be pressed again.
  let refocus = null;
  document.addEventListener("htmx:beforeSwap", (event) => {
    if (event.detail.target?.id === "gen-form" && document.activeElement?.closest("#gen-form")) {
      refocus = document.activeElement.name || null;
    }
  });

  /* ---------- Selecting tiles ---------- */
  const selected = new Set();
  let anchor = null;

  function checks() {
    return $$(".tile-check");
  }

  function renderSelection() {
    const n = selected.size;
    document.body.classList.toggle("selecting", n > 0);
    $$("[data-selection-count]").forEach((el) => {
      el.textContent = `${n} selected`;
    });
    $$("[data-selection-count-only]").forEach((el) => {
      el.textContent = `${n} image${n === 1 ? "" : "s"}`;
    });
    checks().forEach((box) => {
      box.checked = selected.has(box.value);
      box.closest(".tile")?.classList.toggle("is-selected", box.checked);
    });
  }

  function setSelected(box, on) {
    if (on) selected.add(box.value);
    else selected.delete(box.value);
  }

  function clearSelection() {
    selected.clear();
    anchor = null;
    renderSelection();
  }

  function selectAll() {
    checks().forEach((box) => selected.add(box.value));
    renderSelection();
  }

  // The bar sits at the foot of the gallery column (sticky), never over the prompt form.
  function dockSelectionBar() {
    const bar = $("[data-selection-bar]");
    const column = $(".studio-gallery");
    if (!bar || !column || bar.parentElement === column) return;
    column.append(bar);
    bar.classList.add("is-docked");
  }

  // Select (or unselect) `box`; with Shift, everything between the last one clicked and it.
  function pick(box, on, shift) {
    const all = checks();
    if (shift && anchor && all.includes(anchor)) {
      const [a, b] = [all.indexOf(anchor), all.indexOf(box)].sort((x, y) => x - y);
      all.slice(a, b + 1).forEach((other) => setSelected(other, on));
    } else {
      setSelected(box, on);
    }
    anchor = box;
    renderSelection();
  }

  document.addEventListener("click", (event) => {
    const box = event.target.closest(".tile-check");
    if (box) {
      pick(box, box.checked, event.shiftKey);
      return;
    }
    // While selecting, a click on a tile toggles it instead of opening the image.
    const link = event.target.closest(".tile-link, .tile-img");
    if (link && selected.size > 0 && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      const tileBox = link.closest(".tile")?.querySelector(".tile-check");
      if (tileBox) pick(tileBox, !selected.has(tileBox.value), event.shiftKey);
      return;
    }
    if (event.target.closest("[data-selection-clear]")) {
      clearSelection();
      return;
    }
    if (event.target.closest("[data-selection-all]")) {
      selectAll();
      return;
    }
    const confirmer = event.target.closest("[data-confirm-dialog]");
    if (confirmer) {
      event.preventDefault();
      openDialog(document.getElementById(confirmer.dataset.confirmDialog));
    }
  });

  document.addEventListener("submit", (event) => {
    if (event.target.id !== "selection-form") return;
    const next = $("[data-selection-next]", event.target);
    if (next) next.value = location.pathname + location.search;
    // The ZIP is a download: the page stays, so the bar should not look stuck.
    const action = event.submitter?.value;
    if (action === "confirm_delete") selected.clear();
  });

  /* ---------- Keyboard ---------- */
  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented) return;
    const genForm = $("#gen-form");
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && genForm) {
      const inside = event.target.closest?.("#gen-form");
      if (inside || !isTyping(event.target)) {
        event.preventDefault();
        genForm.requestSubmit();
      }
      return;
    }
    // Esc clears a selection however it was made; Ctrl/⌘+A selects every tile on the page.
    if (!isWriting(event.target) && !$("dialog[open]") && !event.altKey) {
      if (event.key === "Escape" && selected.size && !event.ctrlKey && !event.metaKey) {
        event.preventDefault();
        clearSelection();
        return;
      }
      if ((event.key === "a" || event.key === "A") && (event.ctrlKey || event.metaKey) && !event.shiftKey && checks().length) {
        event.preventDefault();
        selectAll();
        return;
      }
    }
    if (isTyping(event.target) || event.ctrlKey || event.metaKey || event.altKey) return;
    if ($("dialog[open]")) return;
    if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
      const link = $(`[data-nav=${event.key === "ArrowLeft" ? "newer" : "older"}]`);
      if (link) {
        event.preventDefault();
        link.click();
      }
    } else if (event.key === "s" || event.key === "S") {
      const star = $("[data-star-button]");
      if (star) {
        event.preventDefault();
        star.click();
      }
    }
  });

  // Example prompts in the empty gallery fill the prompt box.
  document.addEventListener("click", (event) => {
    const example = event.target.closest("[data-example]");
    const area = $("#id_prompt");
    if (!example || !area) return;
    area.value = example.dataset.example;
    area.dispatchEvent(new Event("input", { bubbles: true }));
    area.focus();
  });

  // After a refused submit, bring the first error into view and put the cursor on its field.
  function showFirstError(form) {
    const error = $(".form-errors, .field.has-error", form);
    if (!error) return false;
    // Scroll only the form's own panel where it scrolls (desktop), the page otherwise (phone).
    const panel = form.closest(".studio-panel");
    if (panel && panel.scrollHeight > panel.clientHeight) {
      const box = error.getBoundingClientRect();
      const frame = panel.getBoundingClientRect();
      panel.scrollTop += box.top - frame.top - (panel.clientHeight - box.height) / 2;
    } else {
      error.scrollIntoView({ block: "center" });
    }
    const control = error.matches(".field") ? $("input:not([type=hidden]), textarea, select", error) : null;
    if (control) control.focus({ preventScroll: true });
    return true;
  }

  function init(root) {
    armToasts(root);
    const form = root.id === "gen-form" ? root : $("#gen-form", root);
    if (form) {
      initForm(form);
      if (root === form && showFirstError(form)) {
        refocus = null;
      } else if (refocus && root === form) {
        const el = form.elements.namedItem(refocus);
        if (el && el.focus) {
          el.focus();
          if (el.tagName === "TEXTAREA") el.setSelectionRange(el.value.length, el.value.length);
        }
        refocus = null;
      }
    }
    if (root === document || root.matches?.(".tile, #gallery-results, #gallery-more") || $(".tile", root)) {
      renderSelection();
    }
  }
  document.addEventListener("DOMContentLoaded", () => {
    dockSelectionBar();
    init(document);
  });
  document.addEventListener("htmx:load", (event) => init(event.detail.elt));

  window.Studio = { $, $$, isTyping, isWriting, openDialog };
})();
