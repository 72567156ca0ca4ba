// Small helpers for building the page: elements with attributes, the error banner, formatting.

/** Create an element: h("button", {class: "x", "data-testid": "y", onclick: f}, "text", child, ...). */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else if (name === "dataset") {
      Object.assign(element.dataset, value);
    } else if (value === true) {
      element.setAttribute(name, "");
    } else {
      element.setAttribute(name, String(value));
    }
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** Show a message in the error banner at the top of the page (API errors arrive already in words). */
export function showError(error) {
  const banner = document.querySelector("[data-testid=error-banner]");
  const text = error instanceof Error ? error.message : String(error);
  banner.querySelector("[data-testid=error-text]").textContent = text;
  banner.hidden = false;
  console.warn("voicestudio:", text);
}

/** Hide the error banner. */
export function clearError() {
  document.querySelector("[data-testid=error-banner]").hidden = true;
}

/** A keyboard key as a <kbd> element. */
export const kbd = (key) => h("kbd", {}, key);

/** 1234.5 ms → "1.23 s". */
export const seconds = (ms) => `${(ms / 1000).toFixed(2)} s`;

/** Linear peak (0..1) → dBFS, floored at -99. */
export const dbfs = (peak) => (peak > 0 ? Math.max(-99, 20 * Math.log10(peak)) : -99);

/** The verdict a take got, in words; the API says "pass", older builds "ok". */
export function verdictWords(verdict) {
  if (verdict === "pass" || verdict === "ok") return "Good take";
  if (verdict === "warn") return "Usable, but a retake would be better";
  if (verdict === "fail") return "Record it again";
  return verdict;
}

/** The verdict's CSS/test name: pass, warn or fail. */
export const verdictKey = (verdict) => (verdict === "ok" ? "pass" : verdict);
