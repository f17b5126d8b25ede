/* Webhooks page: reveal the signing secret, and keep a delivery open while it refreshes.
   Everything else (copy, dialogs) is studio.js; without JavaScript the page still works. */
(function () {
  "use strict";

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-reveal]");
    if (!button) return;
    const field = document.querySelector(button.dataset.reveal);
    if (!field) return;
    const show = field.type === "password";
    field.type = show ? "text" : "password";
    button.textContent = show ? "Hide" : "Reveal";
    button.setAttribute("aria-pressed", String(show));
    if (show) field.select();
  });

  /* A delivery row refreshes itself while an attempt is near: tell the server whether
     the reader has it open, so the fresh row comes back the same way. */
  document.body.addEventListener("htmx:configRequest", (event) => {
    const row = event.detail.elt;
    if (row.matches && row.matches("details[data-delivery]")) {
      event.detail.parameters.open = row.open ? "1" : "";
    }
  });
})();
