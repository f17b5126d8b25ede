/* The prompt form's trust aids: the live summary of the active settings beside Generate,
   Reset, the model's honest engine note, the recent-prompts list, and on a phone the
   collapsible form that steps aside for the new tiles. studio.js owns the rest of the form. */
(function () {
  "use strict";
  const $ = (sel, root = document) => root.querySelector(sel);
  const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];
  const PHONE = window.matchMedia("(max-width: 860px)");

  const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

  function styleLabel(value) {
    if (!value) return "Auto";
    const chip = $$("input[name=style]").find((i) => i.value === value);
    const preset = chip && !chip.closest("label").textContent.trim().startsWith("“");
    return preset ? value.replace(/-/g, " ").replace(/^./, (c) => c.toUpperCase()) : `“${value.slice(0, 24)}”`;
  }

  function readSettings(form) {
    const checked = (name) => $(`input[name=${name}]:checked`, form)?.value || "";
    const model = $("[data-model-select]", form) || $("input[name=model]", form);
    const option = model?.tagName === "SELECT" ? model.selectedOptions[0] : null;
    const seedMode = checked("seed_mode");
    return {
      ratio: checked("aspect_ratio") || "1:1",
      style: checked("style") || "auto",
      colors: $$("[data-palette] input[type=color]", form).map((i) => i.value.toLowerCase()),
      deep: Boolean($("input[name=deep_thinking]", form)?.checked),
      count: Number(checked("count") || 1),
      seed: seedMode === "fixed" ? ($("input[name=seed]", form)?.value || "").trim() : "",
      avoid: ($("[data-negative-prompt]", form)?.value || "").trim() !== "",
      model: model?.value || "",
      offline: option ? option.dataset.offline === "1" : !$("[data-offline-note]", form)?.hidden,
    };
  }

  function setItem(form, name, text, show = true) {
    const item = $(`[data-sum=${name}]`, form);
    if (!item) return;
    item.textContent = text;
    item.hidden = !show;
  }

  // The chosen model's facts (engine, neural or not, the model it runs) and what deep thinking does with it.
  function showModelFacts(form) {
    const option = $("[data-model-select]", form)?.selectedOptions[0];
    if (!option) return;
    const say = (selector, text) => {
      const node = $(selector, form);
      if (node) node.textContent = text;
    };
    say("[data-fact-engine]", option.dataset.engine || "");
    const kind = $("[data-fact-kind]", form); // an offline preview says so in its own note above
    if (kind) kind.hidden = option.dataset.offline === "1";
    say("[data-fact-upstream]", option.dataset.upstream || "");
    const upstream = $("[data-fact-upstream-item]", form);
    if (upstream) upstream.hidden = !option.dataset.upstream;
    say("[data-deep-help]", `${option.dataset.deep || "Plans before rendering; a little slower."} It costs nothing extra.`);
  }

  function updateSummary(form) {
    const s = readSettings(form);
    const price = Number(form.dataset.price) || 0;
    setItem(form, "ratio", s.ratio);
    setItem(form, "style", styleLabel(s.style));
    const palette = $("[data-sum=palette]", form);
    if (palette) {
      palette.replaceChildren(
        ...s.colors.map((c) => {
          const dot = document.createElement("i");
          dot.className = "sum-dot";
          dot.style.background = c;
          return dot;
        }),
        document.createTextNode(s.colors.length ? plural(s.colors.length, "colour") : "no palette"),
      );
    }
    setItem(form, "deep_thinking", s.deep ? "deep thinking on" : "deep thinking off");
    setItem(form, "count", plural(s.count, "image"));
    setItem(form, "seed", `seed ${s.seed}`, Boolean(s.seed));
    setItem(form, "avoid", "negative prompt", s.avoid);
    setItem(form, "model", s.offline ? `${s.model} · preview` : s.model);
    $("[data-sum=model]", form)?.classList.toggle("is-offline", s.offline);
    setItem(form, "cost", `${price * s.count} credits`);
    const note = $("[data-offline-note]", form);
    if (note && $("[data-model-select]", form)) note.hidden = !s.offline;
    showModelFacts(form);
    const short = $("[data-toggle-summary]", form);
    if (short) short.textContent = `${s.ratio} · ${styleLabel(s.style)} · ${plural(s.count, "image")} · ${price * s.count} credits`;
  }

  function defaults() {
    const node = $("#gen-defaults");
    return node ? JSON.parse(node.textContent) : {};
  }

  function setRadio(form, name, value) {
    const input = $$(`input[name=${name}]`, form).find((i) => i.value === String(value));
    if (input) input.checked = true;
  }

  // Every control back to its default; the prompt stays (it is in plain sight, and costly to retype).
  function reset(form) {
    const d = defaults();
    setRadio(form, "aspect_ratio", d.aspect_ratio);
    setRadio(form, "style", d.style);
    setRadio(form, "count", d.count);
    setRadio(form, "seed_mode", d.seed_mode);
    const seed = $("input[name=seed]", form);
    if (seed) seed.value = d.seed || "";
    const deep = $("input[name=deep_thinking]", form);
    if (deep) deep.checked = Boolean(d.deep_thinking);
    const negative = $("[data-negative-prompt]", form);
    if (negative) negative.value = d.negative_prompt || "";
    const model = $("[data-model-select]", form);
    if (model) model.value = d.model;
    $$("[data-swatch]", form).forEach((swatch) => swatch.remove());
    // Let studio.js redraw what it owns (ratio size, style help, palette, cost, seed).
    $$("input[name=aspect_ratio], input[name=style], input[name=count], input[name=seed_mode]", form)
      .filter((i) => i.checked)
      .forEach((i) => i.dispatchEvent(new Event("change", { bubbles: true })));
    $("[data-palette-add]", form)?.removeAttribute("hidden");
    updateSummary(form);
  }

  function setCollapsed(form, collapsed) {
    form.classList.toggle("is-collapsed", collapsed);
    $("[data-form-toggle]", form)?.setAttribute("aria-expanded", String(!collapsed));
  }

  const onForm = (event) => event.target.closest?.("#gen-form");

  document.addEventListener("input", (event) => {
    const form = onForm(event);
    if (form) updateSummary(form);
  });
  document.addEventListener("change", (event) => {
    const form = onForm(event);
    if (form) updateSummary(form);
  });
  document.addEventListener("click", (event) => {
    // A click anywhere else closes the recent-prompts list.
    const history = $("[data-prompt-history][open]");
    if (history && !history.contains(event.target)) history.removeAttribute("open");
    const form = onForm(event);
    if (!form) return;
    if (event.target.closest("[data-reset]")) {
      event.preventDefault();
      reset(form);
    } else if (event.target.closest("[data-form-toggle]")) {
      setCollapsed(form, !form.classList.contains("is-collapsed"));
    } else if (event.target.closest("[data-prompt-history] [data-example]")) {
      $("[data-prompt-history]", form)?.removeAttribute("open");
    }
    // Adding or removing a swatch (studio.js, which ran first) changes the palette.
    if (event.target.closest("[data-palette-add], [data-swatch-remove]")) updateSummary(form);
  });

  // Results first on a phone: once the new tiles are in, fold the form and bring them into view.
  document.addEventListener("htmx:afterSettle", (event) => {
    const form = event.detail.elt;
    if (!form || form.id !== "gen-form" || !form.hasAttribute("data-just-created")) return;
    form.removeAttribute("data-just-created");
    if (!PHONE.matches) return;
    const first = (form.dataset.newIds || "").split(" ").filter(Boolean)[0];
    const tile = first ? document.getElementById(`gen-${first}`) : null;
    setCollapsed(form, true);
    if (tile) tile.scrollIntoView({ block: "start", behavior: "smooth" });
  });

  function init(root) {
    const form = root.id === "gen-form" ? root : $("#gen-form", root);
    if (form) updateSummary(form);
  }
  document.addEventListener("DOMContentLoaded", () => init(document));
  document.addEventListener("htmx:load", (event) => init(event.detail.elt));
})();
