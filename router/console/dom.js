// Small DOM helpers of the console. Values from the cluster only ever go
// through textContent: a user id like `<img src=x onerror=…>` stays text.

export const $ = (id) => document.getElementById(id);

/** A table cell holding `value` as text. */
export function cell(value, className) {
  const td = document.createElement("td");
  td.textContent = value === null || value === undefined ? "–" : String(value);
  if (className) td.className = className;
  return td;
}

export function button(label, onClick, testId) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  if (testId) b.dataset.testid = testId;
  b.addEventListener("click", onClick);
  return b;
}

export function fillTable(table, rows) {
  table.tBodies[0].replaceChildren(...rows);
}

export function duration(ms) {
  if (!(ms >= 0)) return "–";
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86400) {
    return `${Math.floor(s / 3600)} h ${Math.floor(s / 60) % 60} min`;
  }
  return `${Math.floor(s / 86400)} d ${Math.floor(s / 3600) % 24} h`;
}

export const time = (ms) => ms > 0 ? new Date(ms).toISOString() : "–";

export function setStatus(text, error = false) {
  $("status").textContent = text;
  $("status").classList.toggle("error", error);
}

export function setOutcome(text, error = false) {
  $("outcome").textContent = text;
  $("outcome").classList.toggle("error", error);
}

/** Asks the operator; resolves true on Confirm. */
export function confirmAction(text) {
  const dialog = $("confirm");
  $("confirm-text").textContent = text;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener(
      "close",
      () => resolve(dialog.returnValue === "ok"),
      { once: true },
    );
  });
}
