// A job's progress bar, fed by the job's WebSocket (see watchJob in api.mjs).

import { h } from "./dom.mjs";

/** A <div> with a bar and a line of text; `show(job)` updates both. `testid` names it for tests. */
export function jobProgress(testid) {
  const bar = h("progress", { max: "1", value: "0", "data-testid": `${testid}-bar` });
  const text = h("span", { class: "job-text", "data-testid": `${testid}-text` });
  const box = h("div", { class: "job-progress", "data-testid": testid, hidden: true }, bar, text);
  let updates = 0;
  box.show = (job) => {
    updates += 1;
    box.hidden = false;
    box.dataset.updates = String(updates);
    box.dataset.state = job.state;
    box.dataset.fraction = String(job.fraction ?? 0);
    bar.value = job.state === "succeeded" ? 1 : job.fraction ?? 0;
    const pct = `${Math.round(100 * (job.state === "succeeded" ? 1 : job.fraction ?? 0))} %`;
    if (job.state === "failed") {
      text.textContent = `Failed: ${job.error ?? "unknown error"}`;
    } else if (job.state === "cancelled") {
      text.textContent = "Cancelled.";
    } else if (job.state === "succeeded") {
      text.textContent = "Done.";
    } else {
      text.textContent = `${job.state === "queued" ? "Waiting for a worker" : job.stage || "Working"}… ${pct}`;
    }
  };
  return box;
}
