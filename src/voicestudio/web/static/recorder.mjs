// The recorder: one prompt at a time, lossless capture, a live level meter with a clip light, keyboard
// shortcuts, upload, and the take's verdict with its reasons as soon as the server has judged it.

import { api, request } from "./api.mjs";
import { dbfs, h, kbd, seconds, showError, verdictKey, verdictWords } from "./dom.mjs";
import { Microphone } from "./microphone.mjs";
import { routeHash } from "./routes.mjs";
import { encodeWav16 } from "./wav.mjs";

const CLIP_HOLD_MS = 1500; // the clip light stays on this long after the last clipped sample
const METER_FLOOR_DB = -60;

const SHORTCUTS = [
  ["R", "record"],
  ["S", "stop and upload"],
  ["T", "retake"],
  ["N / →", "next prompt"],
  ["P / ←", "previous prompt"],
];

const promptKey = (p) => `${p.prompt_set}\u0000${p.prompt_id}`;
const usable = (take) => take && verdictKey(take.verdict) !== "fail";

/** Draw the recorded samples as a min/max envelope on a small canvas. */
function drawTake(canvas, samples) {
  const width = canvas.clientWidth || 600;
  const height = canvas.clientHeight || 60;
  const ratio = window.devicePixelRatio || 1;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const g = canvas.getContext("2d");
  g.scale(ratio, ratio);
  g.clearRect(0, 0, width, height);
  g.fillStyle = "#4f8cc9";
  let peak = 0;
  for (const x of samples) peak = Math.max(peak, Math.abs(x));
  const gain = Math.min(20, 0.95 / Math.max(peak, 1e-4)); // quiet takes drawn larger, so their shape shows
  const per = Math.max(1, Math.floor(samples.length / width));
  for (let x = 0; x < width; x += 1) {
    let lo = 0;
    let hi = 0;
    for (let i = x * per; i < Math.min(samples.length, (x + 1) * per); i += 1) {
      if (samples[i] < lo) lo = samples[i];
      if (samples[i] > hi) hi = samples[i];
    }
    const top = (height / 2) * (1 - hi * gain);
    g.fillRect(x, top, 1, Math.max(1, (height / 2) * (hi - lo) * gain));
  }
}

export async function mount(root, params) {
  const project = await api.project(params.projectId);
  if (project.prompts.length === 0) {
    root.append(h("p", { class: "card" }, "This project has no prompts. Create a project with at least one prompt set."));
    return {};
  }
  const prompts = project.prompts;
  const results = new Map(); // prompt key → {take, current, hadPrevious} of this session's latest upload
  let index = 0;
  let state = "idle";
  let recordingFor = null; // the prompt being recorded
  let clipUntil = 0;
  let clippedThisTake = false;
  let ticker = null;
  let exampleAudio = null;

  const el = {
    position: h("span", { "data-testid": "prompt-position" }),
    setName: h("span", { class: "muted", "data-testid": "prompt-set" }),
    text: h("div", { class: "prompt-text", lang: project.language, "data-testid": "prompt-text" }),
    reading: h("div", { class: "prompt-reading", "data-testid": "prompt-reading" }),
    wav: h("div", { class: "muted", "data-testid": "prompt-wav" }),
    progress: h("span", { "data-testid": "recorder-progress" }),
    meterBar: h("div", { class: "meter-bar" }),
    meterDb: h("span", { class: "meter-db", "data-testid": "level-db" }, "mic off"),
    clip: h("span", { class: "clip-light", "data-testid": "clip-light", title: "lights up when the input clips" }, "CLIP"),
    micInfo: h("span", { class: "muted", "data-testid": "mic-info" }, "The microphone opens when you press R."),
    state: h("span", { class: "rec-state", "data-testid": "rec-state", "data-state": "idle" }, "Ready"),
    elapsed: h("span", { class: "rec-elapsed", "data-testid": "rec-elapsed", "data-ms": "0" }, ""),
    canvas: h("canvas", { class: "take-canvas", "data-testid": "take-waveform", hidden: true }),
    verdict: h("div", { class: "verdict", "data-testid": "verdict", hidden: true }),
    list: h("ol", { class: "prompt-list", "data-testid": "prompt-list" }),
  };
  const meter = h("div", { class: "meter", "data-testid": "level-meter", "data-peak-db": "-99" }, el.meterBar);

  const button = (testid, label, key, onclick) =>
    h("button", { type: "button", "data-testid": testid, title: `shortcut: ${key}`, onclick }, label, " ", kbd(key));
  const buttons = {
    record: button("record", "Record", "R", () => record()),
    stop: button("stop", "Stop", "S", () => stop()),
    retake: button("retake", "Retake", "T", () => retake()),
    prev: button("prev", "Previous", "P", () => go(-1)),
    next: button("next", "Next", "N", () => go(1)),
  };
  const example = h("button", { type: "button", class: "secondary", "data-testid": "example-play" }, "▶ Hear the example");
  example.addEventListener("click", () => playExample());

  const itemFor = new Map();
  for (const [i, p] of prompts.entries()) {
    const item = h("li", { "data-testid": "prompt-item", "data-prompt-set": p.prompt_set, "data-prompt-id": p.prompt_id },
      h("a", { href: routeHash({ page: "record", projectId: project.id, promptSet: p.prompt_set, promptId: p.prompt_id }) },
        h("span", { class: "dot" }), ` ${p.text} `, h("span", { class: "muted" }, p.reading)));
    item.dataset.index = String(i);
    itemFor.set(promptKey(p), item);
    el.list.append(item);
  }

  root.append(
    h("section", { class: "recorder", "data-testid": "recorder-page" },
      h("aside", { class: "card prompt-aside" }, h("h3", {}, "Prompts ", el.progress), el.list),
      h("div", { class: "recorder-main" },
        h("div", { class: "card prompt-card" },
          h("div", { class: "prompt-head" }, el.position, " ", el.setName),
          el.text, el.reading, el.wav, example),
        h("div", { class: "card controls" },
          h("div", { class: "buttons" }, Object.values(buttons)),
          h("div", { class: "meter-row" }, meter, el.meterDb, el.clip),
          h("div", { class: "status-row" }, el.state, " ", el.elapsed, " ", el.micInfo),
          el.canvas),
        el.verdict,
        h("p", { class: "shortcuts muted", "data-testid": "shortcuts" }, "Keys: ",
          SHORTCUTS.map(([key, what]) => h("span", {}, kbd(key), ` ${what}  `))))),
  );

  const mic = new Microphone(({ peak, clipped }) => {
    const db = dbfs(peak);
    const width = Math.max(0, Math.min(1, (db - METER_FLOOR_DB) / -METER_FLOOR_DB));
    el.meterBar.style.width = `${(100 * width).toFixed(1)}%`;
    el.meterBar.classList.toggle("hot", db > -6);
    meter.dataset.peakDb = db.toFixed(1);
    el.meterDb.textContent = `${db.toFixed(0)} dBFS`;
    const now = performance.now();
    if (clipped > 0) {
      clipUntil = now + CLIP_HOLD_MS;
      if (state === "recording" && !clippedThisTake) {
        clippedThisTake = true;
        el.clip.dataset.takeClipped = "true";
      }
    }
    const on = now < clipUntil;
    el.clip.classList.toggle("on", on);
    el.clip.dataset.clipped = String(on);
  });

  const currentPrompt = () => prompts[index];

  function refreshProgress() {
    const done = prompts.filter((p) => usable(p.take)).length;
    el.progress.textContent = `${done} / ${prompts.length}`;
    el.progress.dataset.recorded = String(done);
    el.progress.dataset.total = String(prompts.length);
    for (const p of prompts) {
      const item = itemFor.get(promptKey(p));
      item.dataset.verdict = p.take ? verdictKey(p.take.verdict) : "none";
    }
  }

  /** Take in what other tabs (or other singers of the project) recorded meanwhile; best effort. */
  async function syncTakes() {
    try {
      const fresh = await api.project(project.id);
      const byKey = new Map(fresh.prompts.map((p) => [promptKey(p), p.take]));
      for (const p of prompts) if (byKey.has(promptKey(p))) p.take = byKey.get(promptKey(p));
    } catch {
      // the upload itself succeeded; the list catches up with the next one
    }
  }

  function setState(next, words) {
    state = next;
    el.state.dataset.state = next;
    el.state.textContent = words;
    buttons.record.disabled = next === "recording" || next === "opening" || next === "uploading";
    buttons.retake.disabled = next === "opening" || next === "uploading";
    buttons.stop.disabled = next !== "recording";
    buttons.prev.disabled = next === "recording" || index === 0;
    buttons.next.disabled = next === "recording" || index === prompts.length - 1;
  }

  function showVerdict() {
    const p = currentPrompt();
    const result = results.get(promptKey(p));
    const take = result ? result.take : p.take;
    el.verdict.replaceChildren();
    if (!take) {
      el.verdict.hidden = true;
      el.verdict.dataset.verdict = "none";
      return;
    }
    const key = verdictKey(take.verdict);
    el.verdict.hidden = false;
    el.verdict.dataset.verdict = key;
    el.verdict.dataset.takeId = take.id;
    el.verdict.className = `verdict card ${key}`;
    el.verdict.append(
      h("h3", { "data-testid": "verdict-words" }, result ? "This take: " : "Current take: ", verdictWords(take.verdict)),
      h("p", { class: "muted" }, `${seconds(take.duration_ms)} at ${(take.sample_rate_hz / 1000).toFixed(1)} kHz`),
      take.reasons.length
        ? h("ul", { "data-testid": "verdict-reasons" }, take.reasons.map((reason) => h("li", {}, reason)))
        : h("p", { "data-testid": "verdict-reasons" }, "Nothing to fix."),
    );
    if (result && !result.current) {
      el.verdict.append(result.hadPrevious
        ? h("p", { class: "kept", "data-testid": "kept-previous" }, "Kept your previous take: this one was not good enough to replace it.")
        : h("p", { class: "kept", "data-testid": "not-kept" }, "This take was not kept: record it again."));
    }
    const current = p.take;
    if (current) {
      el.verdict.append(h("button", {
        type: "button", class: "secondary", "data-testid": "take-play",
        onclick: () => playTake(current.id),
      }, "▶ Play the current take"));
    }
  }

  function showPrompt() {
    const p = currentPrompt();
    el.position.textContent = `${index + 1} / ${prompts.length}`;
    el.setName.textContent = p.prompt_set;
    el.text.textContent = p.text;
    el.reading.textContent = p.reading;
    el.wav.textContent = p.wav_name;
    root.querySelector("[data-testid=recorder-page]").dataset.promptId = p.prompt_id;
    for (const item of itemFor.values()) item.classList.remove("selected");
    const item = itemFor.get(promptKey(p));
    item.classList.add("selected");
    item.scrollIntoView({ block: "nearest" });
    el.canvas.hidden = true;
    showVerdict();
    setState(state === "uploading" ? "uploading" : "idle", state === "uploading" ? "Uploading…" : "Ready");
  }

  function selectFromRoute(route) {
    let at = prompts.findIndex((p) => p.prompt_set === route.promptSet && p.prompt_id === route.promptId);
    if (at < 0) at = Math.max(0, prompts.findIndex((p) => !usable(p.take)));
    index = at;
    showPrompt();
  }

  function go(step) {
    if (state === "recording") return showError("Press S to stop recording first.");
    const at = Math.max(0, Math.min(prompts.length - 1, index + step));
    const p = prompts[at];
    location.hash = routeHash({ page: "record", projectId: project.id, promptSet: p.prompt_set, promptId: p.prompt_id });
  }

  async function record() {
    if (state === "recording" || state === "opening") return;
    setState("opening", "Opening the microphone…");
    try {
      recordingFor = currentPrompt();
      clippedThisTake = false;
      el.clip.dataset.takeClipped = "false";
      await mic.start();
    } catch (error) {
      setState("idle", "Ready");
      return showError(error);
    }
    el.micInfo.textContent = `${(mic.sampleRateHz / 1000).toFixed(1)} kHz · mono · 16-bit`;
    el.micInfo.dataset.sampleRateHz = String(mic.sampleRateHz);
    setState("recording", "● Recording");
    el.verdict.hidden = true;
    const started = performance.now();
    ticker = setInterval(() => {
      el.elapsed.textContent = seconds(mic.recordedMs);
      el.elapsed.dataset.ms = String(Math.round(mic.recordedMs));
      el.elapsed.dataset.wallMs = String(Math.round(performance.now() - started));
    }, 50);
  }

  async function stop({ discard = false } = {}) {
    if (state !== "recording") return;
    clearInterval(ticker);
    const target = recordingFor;
    const captured = await mic.stop();
    el.elapsed.textContent = seconds(mic.recordedMs);
    el.elapsed.dataset.ms = String(Math.round(mic.recordedMs));
    if (discard || !captured) return setState("idle", "Ready");
    el.canvas.hidden = false;
    drawTake(el.canvas, captured.samples);
    setState("uploading", "Uploading…");
    const hadPrevious = Boolean(target.take);
    try {
      const wav = encodeWav16(captured.samples, captured.sampleRateHz);
      const answer = await api.uploadTake(project.id, target.prompt_set, target.prompt_id, wav);
      if (answer.current) target.take = answer.take;
      results.set(promptKey(target), { take: answer.take, current: answer.current, hadPrevious, clipped: clippedThisTake });
      await syncTakes();
      refreshProgress();
      setState("done", "Uploaded");
      if (currentPrompt() === target) showVerdict();
    } catch (error) {
      setState("failed", "Upload failed");
      showError(error);
    }
  }

  async function retake() {
    if (state === "recording") await stop({ discard: true });
    results.delete(promptKey(currentPrompt()));
    await record();
  }

  async function playExample() {
    const p = currentPrompt();
    example.dataset.state = "loading";
    try {
      const blob = await (await request(api.exampleUrl(p.prompt_set, p.prompt_id))).blob();
      if (exampleAudio) exampleAudio.pause();
      exampleAudio = new Audio(URL.createObjectURL(blob));
      exampleAudio.addEventListener("ended", () => (example.dataset.state = "done"));
      example.dataset.state = "playing";
      await exampleAudio.play();
    } catch (error) {
      example.dataset.state = "error";
      showError(error);
    }
  }

  function onKey(event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
    const target = event.target;
    if (target && (target.isContentEditable || ["INPUT", "SELECT", "TEXTAREA"].includes(target.tagName))) return;
    const actions = {
      r: record, s: stop, t: retake, n: () => go(1), p: () => go(-1),
      arrowright: () => go(1), arrowleft: () => go(-1),
    };
    const action = actions[event.key.toLowerCase()];
    if (!action) return;
    event.preventDefault();
    action();
  }

  window.addEventListener("keydown", onKey);
  refreshProgress();
  selectFromRoute(params);

  return {
    update(route) {
      if (state === "recording") stop({ discard: true });
      selectFromRoute(route);
    },
    unmount() {
      window.removeEventListener("keydown", onKey);
      clearInterval(ticker);
      if (exampleAudio) exampleAudio.pause();
      mic.close();
    },
  };
}

/** Play a stored take; CORS mode, because with S3 storage it arrives from the bucket and the page is
 * cross-origin isolated (COEP), which blocks no-cors media from elsewhere. */
function playTake(takeId) {
  const audio = new Audio();
  audio.crossOrigin = "anonymous";
  audio.src = api.takeAudioUrl(takeId);
  return audio.play().catch(showError);
}
