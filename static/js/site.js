// Progressive enhancement only: every page works without this file.
// "Copy link" buttons: <button data-copy="#input-id" hidden>.
document.querySelectorAll("button[data-copy]").forEach((button) => {
  const source = document.querySelector(button.dataset.copy);
  if (!source || !navigator.clipboard) return;
  button.hidden = false;
  button.addEventListener("click", () => {
    navigator.clipboard.writeText(source.value).then(() => {
      button.textContent = button.dataset.copied || "✓";
    });
  });
});

// Error summaries (templates/letters/_error_summary.html): a form that came
// back with errors opens with the list of them; focus goes there on load (so
// it is read first, and is in view wherever the form is on the page), and
// each of its links moves focus to its field, with the field's label or
// legend in view.  Without this file the links still jump to the fields.
{
  const errorSummary = document.querySelector("[data-error-summary]");
  if (errorSummary) {
    errorSummary.focus({ preventScroll: true });
    const box = errorSummary.getBoundingClientRect();
    if (box.top < 0 || box.bottom > window.innerHeight) {
      errorSummary.scrollIntoView({ block: "start" });
    }
    errorSummary.addEventListener("click", (event) => {
      const link = event.target.closest("a[href^='#']");
      const field = link && document.getElementById(decodeURIComponent(link.hash.slice(1)));
      if (!field) return;
      event.preventDefault();
      const group = field.closest("fieldset");
      const label = (group && group.querySelector("legend")) || (field.labels && field.labels[0]);
      (label || field).scrollIntoView({ block: "start" });
      field.focus({ preventScroll: true });
    });
  }
}
