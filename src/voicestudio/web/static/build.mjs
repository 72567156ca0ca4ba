// Build & download: start the voicebank build, follow it live over the job's WebSocket, then offer the zip.

import { api, watchJob } from "./api.mjs";
import { h, showError } from "./dom.mjs";
import { jobProgress } from "./progress.mjs";
import { routeHash } from "./routes.mjs";

export async function mount(root, params) {
  const project = await api.project(params.projectId);
  const name = h("input", { name: "name", value: project.name, "data-testid": "vb-name" });
  const encoding = h("select", { name: "encoding", "data-testid": "vb-encoding" },
    h("option", { value: "shift_jis" }, "Shift-JIS (UTAU)"),
    h("option", { value: "utf-8" }, "UTF-8 (OpenUTAU)"));
  const start = h("button", { type: "button", "data-testid": "build-start" }, "Build the voicebank");
  const cancel = h("button", { type: "button", class: "secondary", "data-testid": "build-cancel", hidden: true }, "Cancel");
  const progress = jobProgress("build-progress");
  const result = h("div", { class: "build-result", "data-testid": "build-result" });
  let job = null;

  start.addEventListener("click", async () => {
    start.disabled = true;
    result.replaceChildren();
    try {
      job = (await api.startVoicebank(project.id, name.value.trim() || undefined, encoding.value)).job;
      cancel.hidden = false;
      const final = await watchJob(job, progress.show);
      cancel.hidden = true;
      if (final.state === "succeeded" && final.result && final.result.voicebank_id) {
        const href = api.downloadUrl(final.result.voicebank_id);
        result.append(h("a", { class: "download", href, download: "", "data-testid": "download-link",
          "data-voicebank-id": final.result.voicebank_id }, "⬇ Download the voicebank (zip)"),
        h("p", {}, h("a", { class: "button-link", "data-testid": "upgrade-voice",
          href: routeHash({ page: "voice", projectId: project.id }) }, "Upgrade to AI Voice →"),
        " a voice that speaks any text, trained on your read sentences."));
      } else if (final.state === "failed") {
        showError(`The build failed: ${final.error ?? "unknown error"}`);
      }
    } catch (error) {
      showError(error);
    } finally {
      start.disabled = false;
      cancel.hidden = true;
    }
  });
  cancel.addEventListener("click", async () => {
    if (!job) return;
    try {
      await api.cancelJob(job.id);
    } catch (error) {
      showError(error);
    }
  });

  root.append(h("section", { class: "card build", "data-testid": "build-page" },
    h("h2", {}, "Build & download"),
    h("p", { class: "muted", "data-testid": "build-summary" },
      `${project.recorded} of ${project.total} prompts recorded. The zip holds the wavs, oto.ini, character.txt, character.yaml and a readme.`),
    h("label", {}, "Voicebank name ", name),
    h("label", {}, "oto.ini encoding ", encoding),
    h("div", { class: "buttons" }, start, cancel),
    progress,
    result));
  return {};
}
