/* Team review: the a / r keys that approve or reject the image shown (the review queue
   and the image page), Ctrl/⌘+Enter to post a comment, and keeping the comment box
   focused across the thread's HTMX swap. Without this file every button still works. */
(function () {
  "use strict";

  const isTyping = (el) => el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  const busy = (form) => form && (form.classList.contains("htmx-request") || form.dataset.submitting === "1");

  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.altKey) return;
    const area = event.target.closest?.("[data-comment-form] textarea");
    if (area && event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      area.form.requestSubmit();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.shiftKey || event.repeat) return;
    if (isTyping(event.target) || document.querySelector("dialog[open]")) return;
    const key = event.key.toLowerCase();
    if (key !== "a" && key !== "r") return;
    const button = document.querySelector(`[data-review-key="${key}"]:not(:disabled)`);
    if (!button || busy(button.form)) return;
    event.preventDefault();
    button.click();
  });

  // A plain (non-HTMX) submit: a second key press while the page loads must not post again.
  document.addEventListener("submit", (event) => {
    if (event.target.matches("[data-review-decide]") && !window.htmx) event.target.dataset.submitting = "1";
  });

  let refocusComment = false;
  document.addEventListener("htmx:beforeSwap", (event) => {
    if (event.detail.target?.id === "comments") {
      refocusComment = document.activeElement?.id === "comment-body";
    }
  });
  document.addEventListener("htmx:afterSettle", (event) => {
    if (!refocusComment || event.detail.target?.id !== "comments") return;
    refocusComment = false;
    const area = document.getElementById("comment-body");
    if (area) {
      area.focus();
      area.setSelectionRange(area.value.length, area.value.length);
    }
  });
})();
