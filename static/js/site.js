/* Site-wide bits: the light/dark switch in the top bar, and filter URLs without empty fields. */
(() => {
  "use strict";
  const root = document.documentElement;
  const systemDark = window.matchMedia("(prefers-color-scheme: dark)");

  /* What is on screen now: the saved choice, else the OS setting. */
  const shownTheme = () => root.dataset.theme || (systemDark.matches ? "dark" : "light");

  const labelToggles = () => {
    const next = shownTheme() === "dark" ? "light" : "dark";
    document.querySelectorAll("[data-theme-toggle] button[name=theme]").forEach((button) => {
      button.value = next;
      button.setAttribute("aria-label", `Switch to ${next} theme`);
    });
  };

  const applyTheme = (theme) => {
    root.dataset.theme = theme;
    const meta = document.querySelector('meta[name="color-scheme"]');
    if (meta) meta.content = theme;
    labelToggles();
  };

  /* The switch: change at once, save in the background (the server applies it on every later page). */
  document.addEventListener("submit", (event) => {
    const form = event.target.closest("[data-theme-toggle]");
    if (!form) return;
    event.preventDefault();
    const theme = shownTheme() === "dark" ? "light" : "dark";
    applyTheme(theme);
    const body = new FormData(form);
    body.set("theme", theme);
    form.dataset.saving = "1";
    fetch(form.action, { method: "POST", body, headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then((response) => {
        form.dataset.saved = response.ok ? theme : "";
      })
      .catch(() => {
        form.dataset.saved = "";
      })
      .finally(() => delete form.dataset.saving);
  });

  systemDark.addEventListener("change", labelToggles);
  document.addEventListener("DOMContentLoaded", labelToggles);

  /* Filter forms send only the fields that have a value, so their URLs stay short. */
  document.addEventListener("htmx:configRequest", (event) => {
    const form = event.detail.elt;
    if (!form || form.id !== "filters" || event.detail.verb !== "get") return;
    const params = event.detail.formData;
    if (!params) return;
    Array.from(new Set(params.keys())).forEach((key) => {
      if (params.getAll(key).every((value) => value === "")) params.delete(key);
    });
  });
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form.id !== "filters" || (form.method || "").toLowerCase() !== "get" || window.htmx) return;
    form.querySelectorAll("input[name], select[name]").forEach((field) => {
      if (field.value === "" && !field.disabled) field.disabled = true;
    });
  });
})();
