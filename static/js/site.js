// Progressive enhancement only: every page works without this file.
// "Copy link" buttons: <button data-copy="#input-id" data-copied="Copied"
// hidden>, the link in a labelled read-only input (which people without
// this file select and copy themselves); data-copy-status="#id" names the
// live region that says "Copied" (one is added after the button if not).
document.querySelectorAll("button[data-copy]").forEach((button) => {
  const source = document.querySelector(button.dataset.copy);
  if (!source || !navigator.clipboard) return;
  let status = button.dataset.copyStatus && document.querySelector(button.dataset.copyStatus);
  if (!status) {
    status = document.createElement("span");
    status.className = "copy-status";
    status.setAttribute("role", "status");
    button.after(status);
  }
  button.hidden = false;
  button.addEventListener("click", () => {
    status.textContent = "";
    navigator.clipboard.writeText(source.value).then(
      () => {
        status.textContent = button.dataset.copied || "✓";
      },
      () => {
        source.select();
        status.textContent = button.dataset.copyFailed || "";
      },
    );
  });
});

// The new-letter form (<form data-slug-from-title>): the web address follows
// the title as it is typed, until the organiser edits it (the hidden
// slug_auto says which; the server makes the address itself when it is
// left empty).  The same rule as django.utils.text.slugify.
{
  const form = document.querySelector("form[data-slug-from-title]");
  const title = form && form.querySelector("[name=title]");
  const slug = form && form.querySelector("[name=slug]");
  const auto = form && form.querySelector("[name=slug_auto]");
  if (title && slug && auto) {
    const slugify = (text) =>
      text
        .normalize("NFKD")
        .replace(/[^\x00-\x7f]/g, "")
        .toLowerCase()
        .replace(/[^\w\s-]/g, "")
        .replace(/[-\s]+/g, "-")
        .replace(/^[-_]+|[-_]+$/g, "")
        .slice(0, 80)
        .replace(/[-_]+$/, "");
    const wasAuto = auto.value === "1" || auto.value === "True";
    let following = slug.value === "" || (wasAuto && slug.value === slugify(title.value));
    const follow = () => {
      if (!following) return;
      slug.value = slugify(title.value);
      auto.value = slug.value ? "1" : "";
    };
    title.addEventListener("input", follow);
    slug.addEventListener("input", () => {
      following = slug.value === "";
      auto.value = "";
    });
    follow();
  }
}

// Time zone selects (letters/forms/zoned.py) that nothing chose yet
// (data-guess-time-zone): the browser's zone, if the list has it.  The
// date-times already on the form (a stored closing time, "now") keep their
// moment: they are rewritten from the old zone's wall-clock time to the
// new one's.
{
  const wall = (ms, zone) => {
    const parts = {};
    new Intl.DateTimeFormat("en-US", {
      timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit",
      day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
    }).formatToParts(new Date(ms)).forEach((p) => { parts[p.type] = p.value; });
    return parts;
  };
  const asUtc = (p) => Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour % 24, +p.minute, +(p.second || 0));
  const offset = (ms, zone) => asUtc(wall(ms, zone)) - Math.floor(ms / 1000) * 1000;
  const moment = (value, zone) => {
    const [date, time] = value.split("T");
    const [year, month, day] = date.split("-");
    const [hour, minute] = time.split(":");
    const guess = asUtc({ year, month, day, hour, minute });
    const first = guess - offset(guess, zone);
    return guess - offset(first, zone);
  };
  const local = (ms, zone) => {
    const p = wall(ms, zone);
    return `${p.year}-${p.month}-${p.day}T${String(+p.hour % 24).padStart(2, "0")}:${p.minute}`;
  };
  document.querySelectorAll("select[data-guess-time-zone]").forEach((select) => {
    let guess;
    try {
      guess = Intl.DateTimeFormat().resolvedOptions().timeZone;
    } catch {
      return;
    }
    const from = select.value;
    if (!guess || guess === from || !Array.from(select.options).some((o) => o.value === guess)) return;
    (select.form || document).querySelectorAll("input[type=datetime-local]").forEach((input) => {
      if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(input.value)) {
        input.value = local(moment(input.value, from), guess);
      }
    });
    select.value = guess;
  });
}

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
