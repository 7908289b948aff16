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
