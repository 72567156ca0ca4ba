// #/projects/ID/voice — "Upgrade to AI Voice": is there enough read speech, the owner's spoken consent,
// then training with a live progress bar and loss chart, and the model card with its files when it is done.

import { api } from "./api.mjs";
import { clearError, dbfs, h, seconds, showError } from "./dom.mjs";
import { Microphone } from "./microphone.mjs";
import { jobProgress } from "./progress.mjs";
import { routeHash } from "./routes.mjs";
import { followJob, rememberedJob, voiceApi } from "./voice-api.mjs";
import { lossChart } from "./voice-loss-chart.mjs";
import { encodeWav16 } from "./wav.mjs";

const METER_FLOOR_DB = -60;
const SHA256 = /^[0-9a-f]{64}$/i;

/** 754 → "12 min 34 s"; 3720 → "1 h 02 min". */
export function duration(totalS) {
  const s = Math.max(0, Math.round(totalS));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`;
}

const megabytes = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;

/** The link that sends the speaker to record the project's paragraph set (the first prompt still missing). */
function paragraphLink(project, paragraphSets) {
  const ours = project.prompt_sets.filter((name) => paragraphSets.includes(name));
  if (ours.length === 0) {
    return h("p", { "data-testid": "voice-no-paragraphs" },
      "This project has no sentence set to read. ",
      h("a", { href: "#/" }, `Create a project with ${paragraphSets.join(" or ") || "a paragraph set"}`),
      " and record it: the voice learns from read sentences.");
  }
  const prompts = project.prompts.filter((p) => ours.includes(p.prompt_set));
  const next = prompts.find((p) => !p.take || p.take.verdict === "fail") ?? prompts[0];
  const href = next
    ? routeHash({ page: "record", projectId: project.id, promptSet: next.prompt_set, promptId: next.prompt_id })
    : routeHash({ page: "record", projectId: project.id });
  return h("a", { href, "data-testid": "voice-record-paragraphs" }, `Record the sentences (${ours.join(", ")})`);
}

/** The model card: what was trained, how, from whose consent, and its files. */
function modelCard(modelId, card) {
  const facts = [];
  if (card) {
    if (card.size) facts.push(["Size", `${card.size} preset, ${megabytes(card.model_bytes)}`]);
    else facts.push(["Size", megabytes(card.model_bytes)]);
    if (card.steps !== null && card.steps !== undefined) facts.push(["Steps", String(card.steps)]);
    if (card.training_time_s !== null && card.training_time_s !== undefined) {
      facts.push(["Training time", duration(card.training_time_s)]);
    }
    if (card.device) facts.push(["Device", card.device]);
    facts.push(["Sound", `${card.language} · ${card.sample_rate_hz} Hz`]);
  }
  return h("section", { class: "card voice-model", "data-testid": "voice-model-card", "data-model-id": modelId },
    h("h3", {}, "Your AI voice: ", card ? card.name : modelId),
    card ? null : h("p", { class: "muted" },
      "The studio has not listed this model yet; its files may still be on their way."),
    h("dl", { class: "voice-facts" }, facts.flatMap(([name, value]) =>
      [h("dt", {}, name), h("dd", { "data-testid": `voice-model-${name.toLowerCase().replace(/ /g, "-")}` }, value)])),
    card && card.consent_sentence
      ? h("blockquote", { "data-testid": "voice-model-consent" }, card.consent_sentence) : null,
    h("div", { class: "buttons" },
      h("a", { class: "download", href: voiceApi.modelUrl(modelId), download: "model.onnx",
        "data-testid": "voice-download-onnx" }, "⬇ model.onnx"),
      h("a", { class: "download", href: voiceApi.configUrl(modelId), download: "model.onnx.json",
        "data-testid": "voice-download-config" }, "⬇ model.onnx.json"),
      h("a", { class: "download", href: routeHash({ page: "synth", modelId }), "data-testid": "voice-try" },
        "▶ Try it in the browser")));
}

export async function mount(root, params) {
  const project = await api.project(params.projectId);
  const sets = await api.promptSets();
  const paragraphSets = sets.filter((s) => s.kind === "paragraph" && s.language === project.language).map((s) => s.name);
  let readiness = null;
  let follower = null;
  let alive = true;
  let ticker = null;

  // Readiness
  const readyBox = h("div", { class: "voice-readiness", "data-testid": "voice-readiness", "data-ready": "unknown" });

  // Consent
  const sentence = h("blockquote",
    { class: "consent-sentence", lang: project.language, "data-testid": "consent-sentence" }, "…");
  const consentStatus = h("p", { "data-testid": "consent-status", "data-consent": "false" });
  const recordButton = h("button", { type: "button", "data-testid": "consent-record" }, "● Record the statement");
  const stopButton = h("button", { type: "button", class: "secondary", "data-testid": "consent-stop", disabled: true },
    "■ Stop and save");
  const meterBar = h("div", { class: "meter-bar" });
  const meter = h("div", { class: "meter", "data-testid": "consent-meter" }, meterBar);
  const consentState = h("span", { class: "rec-state", "data-testid": "consent-state", "data-state": "idle" }, "");
  const elapsed = h("span", { class: "rec-elapsed", "data-testid": "consent-elapsed", "data-ms": "0" }, "");

  // Training
  const preset = h("select", { "data-testid": "voice-preset" },
    h("option", { value: "medium" }, "medium (piper's medium quality; a GPU is best)"),
    h("option", { value: "tiny" }, "tiny (a quick test; fine on a CPU)"));
  const steps = h("input", { type: "number", min: "1", step: "1", value: "2000", "data-testid": "voice-steps" });
  const device = h("select", { "data-testid": "voice-device" },
    h("option", { value: "auto" }, "auto (the GPU when there is one)"),
    h("option", { value: "cuda" }, "GPU (cuda)"),
    h("option", { value: "cpu" }, "CPU"));
  const baseLocation = h("input", { class: "voice-base", placeholder: "https://… or a path on the server",
    "data-testid": "voice-base-location" });
  const baseSha = h("input", { class: "voice-base", placeholder: "64 hex digits", "data-testid": "voice-base-sha256" });
  const start = h("button", { type: "button", "data-testid": "voice-start", disabled: true }, "Start training");
  const cancel = h("button", { type: "button", class: "secondary", "data-testid": "voice-cancel", hidden: true }, "Cancel");
  const why = h("span", { class: "muted", "data-testid": "voice-start-why" });
  const progress = jobProgress("voice-progress");
  const stepLine = h("p", { class: "voice-step", "data-testid": "voice-step", hidden: true });
  const chart = lossChart("voice-loss");
  chart.hidden = true;
  const result = h("div", { "data-testid": "voice-result" });
  let job = null;

  root.append(h("section", { class: "voice", "data-testid": "voice-page", "data-project-id": project.id },
    h("section", { class: "card" },
      h("h2", {}, "Upgrade to AI Voice"),
      h("p", { class: "muted" }, "The studio trains a voice model (piper, ONNX) on your read sentences. It speaks any " +
        "text, in this browser or in any piper player."),
      readyBox),
    h("section", { class: "card consent", "data-testid": "voice-consent" },
      h("h3", {}, "1. Your consent, in your voice"),
      h("p", { class: "muted" }, "Read this statement aloud. It is kept with the model, so anyone can hear whose voice " +
        "it is and that its owner agreed."),
      sentence,
      h("div", { class: "buttons" }, recordButton, stopButton, consentState, elapsed),
      h("div", { class: "meter-row" }, meter),
      consentStatus),
    h("section", { class: "card", "data-testid": "voice-train" },
      h("h3", {}, "2. Train"),
      h("div", { class: "voice-form" },
        h("label", {}, "Size ", preset),
        h("label", {}, "Steps ", steps),
        h("label", {}, "Device ", device)),
      h("details", { "data-testid": "voice-base" },
        h("summary", {}, "Start from a base checkpoint (optional; fewer steps for the same quality)"),
        h("label", {}, "Location ", baseLocation),
        h("label", {}, "SHA-256 ", baseSha)),
      h("div", { class: "buttons" }, start, cancel, why),
      progress, stepLine, chart),
    result));

  function setConsentState(name, words) {
    consentState.dataset.state = name;
    consentState.textContent = words;
    recordButton.disabled = ["opening", "recording", "uploading"].includes(name);
    stopButton.disabled = name !== "recording";
  }

  function showReadiness(ready) {
    readiness = ready;
    readyBox.dataset.ready = String(ready.ready);
    readyBox.dataset.haveS = String(ready.have_s);
    readyBox.dataset.neededS = String(ready.needed_s);
    readyBox.dataset.consent = String(ready.consent);
    const fraction = ready.needed_s > 0 ? Math.min(1, ready.have_s / ready.needed_s) : 1;
    readyBox.replaceChildren(
      h("div", { class: "project-progress" },
        h("progress", { max: "1", value: String(fraction), "data-testid": "voice-audio-bar" }),
        h("span", { "data-testid": "voice-audio" },
          `${ready.have_s.toFixed(1)} s of ${ready.needed_s.toFixed(0)} s of sentences`)),
      h("p", { class: ready.ready ? "voice-ready" : "voice-missing", "data-testid": "voice-message" },
        ready.ready ? "Ready to train." : ready.message),
      ...(ready.have_s < ready.needed_s ? [paragraphLink(project, paragraphSets)] : []));
    if (ready.sentence) sentence.textContent = ready.sentence;
    consentStatus.dataset.consent = String(ready.consent);
    consentStatus.textContent = ready.consent
      ? "✓ Your consent is recorded. Record it again to replace it."
      : "Not recorded yet: training starts only after it.";
    updateStart();
  }

  function updateStart() {
    const running = job && !["succeeded", "failed", "cancelled"].includes(job.state);
    start.disabled = Boolean(running) || !readiness || !readiness.ready;
    why.textContent = running ? "Training…" : readiness && !readiness.ready ? readiness.message : "";
  }

  async function refreshReadiness() {
    try {
      showReadiness(await voiceApi.training(project.id));
    } catch (error) {
      readyBox.dataset.ready = "error";
      readyBox.replaceChildren(h("p", { class: "voice-missing", "data-testid": "voice-message" }, error.message));
      showError(error);
    }
  }

  const mic = new Microphone(({ peak }) => {
    const db = dbfs(peak);
    meterBar.style.width = `${(100 * Math.max(0, Math.min(1, (db - METER_FLOOR_DB) / -METER_FLOOR_DB))).toFixed(1)}%`;
    meterBar.classList.toggle("hot", db > -6);
  });

  recordButton.addEventListener("click", async () => {
    setConsentState("opening", "Opening the microphone…");
    try {
      await mic.start();
    } catch (error) {
      setConsentState("failed", "No microphone");
      return showError(error);
    }
    setConsentState("recording", "● Recording");
    ticker = setInterval(() => {
      elapsed.textContent = seconds(mic.recordedMs);
      elapsed.dataset.ms = String(Math.round(mic.recordedMs));
    }, 50);
  });

  stopButton.addEventListener("click", async () => {
    clearInterval(ticker);
    const captured = await mic.stop();
    await mic.close(); // the recording light goes off: nothing more is heard on this page
    if (!captured) return setConsentState("idle", "");
    setConsentState("uploading", "Saving…");
    try {
      const answer = await voiceApi.uploadConsent(project.id, encodeWav16(captured.samples, captured.sampleRateHz));
      consentStatus.dataset.consentId = answer.consent.id;
      setConsentState("done", `Saved (${seconds(answer.consent.duration_ms)})`);
      await refreshReadiness();
    } catch (error) {
      setConsentState("failed", "Not saved");
      showError(error);
    }
  });

  function showJob(next) {
    if (!alive) return;
    job = next;
    progress.show(next);
    const detail = next.detail;
    if (detail && Number.isFinite(detail.step)) {
      stepLine.hidden = false;
      Object.assign(stepLine.dataset, { step: String(detail.step), totalSteps: String(detail.total_steps),
        etaS: String(detail.eta_s ?? ""), device: detail.device ?? "" });
      const parts = [`Step ${detail.step} / ${detail.total_steps}`];
      if (Number.isFinite(detail.epoch)) parts.push(`epoch ${detail.epoch}`);
      if (Number.isFinite(detail.seconds_per_step)) parts.push(`${detail.seconds_per_step.toFixed(2)} s/step`);
      if (next.state === "running" && Number.isFinite(detail.eta_s)) parts.push(`about ${duration(detail.eta_s)} left`);
      if (detail.device) parts.push(`on ${detail.device}`);
      stepLine.textContent = parts.join(" · ");
      chart.hidden = false;
      chart.add(detail);
    }
    updateStart();
  }

  async function finished(final) {
    cancel.hidden = true;
    updateStart();
    if (!alive) return;
    if (final.state === "failed") return showError(`The training failed: ${final.error ?? "unknown error"}`);
    if (final.state !== "succeeded" || !final.result || !final.result.model_id) return;
    const modelId = final.result.model_id;
    let card = null;
    try {
      card = (await voiceApi.models()).find((item) => item.id === modelId) ?? null;
    } catch (error) {
      showError(error);
    }
    if (alive) result.replaceChildren(modelCard(modelId, card));
  }

  async function watch(started) {
    if (follower) follower.stop();
    cancel.hidden = false;
    follower = followJob(started, showJob);
    try {
      await finished(await follower.done);
    } catch (error) {
      if (alive) showError(error);
    }
  }

  function baseCheckpoint() {
    const location = baseLocation.value.trim();
    const sha256 = baseSha.value.trim().toLowerCase();
    if (!location && !sha256) return null;
    if (!location) throw new Error("Give the base checkpoint's location too, or clear its SHA-256.");
    if (!SHA256.test(sha256)) {
      throw new Error("The base checkpoint's SHA-256 must be 64 hex digits (sha256sum prints it), " +
        "so the studio can check the download.");
    }
    return { location, sha256 };
  }

  start.addEventListener("click", async () => {
    const count = Number(steps.value);
    if (!Number.isInteger(count) || count < 1) return showError("Steps must be a whole number of at least 1.");
    let base;
    try {
      base = baseCheckpoint();
    } catch (error) {
      return showError(error);
    }
    start.disabled = true;
    result.replaceChildren();
    try {
      const choice = { preset: preset.value, steps: count, device: device.value, base };
      const started = (await voiceApi.startTraining(project.id, choice)).job;
      rememberedJob.set(project.id, started.id);
      clearError();
      await watch(started);
    } catch (error) {
      showError(error);
      updateStart();
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

  window.addEventListener("resize", chart.redraw);
  const [consent] = await Promise.allSettled([voiceApi.consentSentence(project.language), refreshReadiness()]);
  if (consent.status === "fulfilled" && !readiness?.sentence) sentence.textContent = consent.value.sentence;
  setConsentState("idle", "");

  // A training started earlier from this browser: follow it again, or show what it made.
  const remembered = rememberedJob.get(project.id);
  if (remembered) {
    api.job(remembered).then((earlier) => {
      if (alive && earlier.kind === "train") watch(earlier);
    }, () => {}); // gone (a new data folder): start fresh
  }

  return {
    unmount() {
      alive = false;
      clearInterval(ticker);
      window.removeEventListener("resize", chart.redraw);
      if (follower) follower.stop();
      mic.close();
    },
  };
}
