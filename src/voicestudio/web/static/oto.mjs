// Oto review: every line, least confident first; the selected line's take with its five markers, which
// can be dragged or typed, saved through the API, and its region played with Web Audio.

import { api, request, watchJob } from "./api.mjs";
import { h, kbd, showError } from "./dom.mjs";
import { OtoCanvas } from "./oto-canvas.mjs";
import { MARKERS, MARKER_LABELS, lineValues, regionMs } from "./oto-markers.mjs";
import { jobProgress } from "./progress.mjs";

const confidenceClass = (c) => (c < 0.5 ? "low" : c < 0.8 ? "mid" : "high");

function mono(buffer) {
  if (buffer.numberOfChannels === 1) return buffer.getChannelData(0);
  const out = new Float32Array(buffer.length);
  for (let c = 0; c < buffer.numberOfChannels; c += 1) {
    const channel = buffer.getChannelData(c);
    for (let i = 0; i < out.length; i += 1) out[i] += channel[i] / buffer.numberOfChannels;
  }
  return out;
}

export async function mount(root, params) {
  const projectId = params.projectId;
  const audio = new AudioContext();
  const decoded = new Map(); // take id → Promise<AudioBuffer>
  let lines = [];
  let selected = null; // the OtoLine being edited
  let values = null; // its values as edited (not yet saved)
  let playing = null;

  const progress = jobProgress("oto-progress");
  const runButton = h("button", { type: "button", "data-testid": "run-oto" }, "Generate oto from the takes");
  const table = h("tbody", { "data-testid": "oto-lines" });
  const empty = h("p", { class: "muted", "data-testid": "oto-empty", hidden: true },
    "No oto lines yet: record the prompts, then generate the oto from the takes.");
  const fields = Object.fromEntries(MARKERS.map((m) => [m,
    h("input", { type: "number", step: "1", "data-testid": `oto-field-${m}`, name: m })]));
  const canvasElement = h("canvas", { class: "oto-canvas", "data-testid": "oto-canvas" });
  const status = h("span", { class: "muted", "data-testid": "oto-status" });
  const info = {
    alias: h("strong", { "data-testid": "oto-alias" }),
    wav: h("span", { class: "muted", "data-testid": "oto-wav" }),
    confidence: h("span", { "data-testid": "oto-confidence" }),
    note: h("span", { class: "muted", "data-testid": "oto-note" }),
  };
  const playButton = h("button", { type: "button", "data-testid": "oto-play" }, "▶ Play region ", kbd("Space"));
  const saveButton = h("button", { type: "button", "data-testid": "oto-save" }, "Save");
  const revertButton = h("button", { type: "button", class: "secondary", "data-testid": "oto-revert" }, "Revert");
  const allButton = h("button", { type: "button", class: "secondary", "data-testid": "oto-zoom-all" }, "Whole file");
  const fitButton = h("button", { type: "button", class: "secondary", "data-testid": "oto-zoom-fit" }, "Fit region");
  const editor = h("section", { class: "card oto-editor", "data-testid": "oto-editor", hidden: true },
    h("div", { class: "oto-head" }, info.alias, " ", info.wav, " · confidence ", info.confidence, " ", info.note),
    canvasElement,
    h("div", { class: "oto-fields" },
      MARKERS.map((m) => h("label", { class: `field ${m}` }, `${MARKER_LABELS[m]} (ms)`, fields[m]))),
    h("div", { class: "buttons" }, playButton, saveButton, revertButton, allButton, fitButton, status),
    h("p", { class: "muted" },
      "Consonant, preutterance and overlap are measured from the offset; a negative cutoff is the length from the offset, a positive one the distance from the file's end. Drag a marker or type a value."));

  root.append(h("section", { class: "oto", "data-testid": "oto-page" },
    h("div", { class: "card" }, h("h2", {}, "Oto review"), runButton, progress, empty,
      h("div", { class: "oto-table-wrap" },
        h("table", { class: "oto-table" },
          h("thead", {}, h("tr", {}, ["confidence", "alias", "file", ...MARKERS, "note"].map((c) => h("th", {}, c)))),
          table))),
    editor));

  const canvas = new OtoCanvas(canvasElement, (moved) => {
    values = moved;
    showValues();
  });

  function markDirty() {
    const dirty = selected && MARKERS.some((m) => values[`${m}_ms`] !== selected[`${m}_ms`]);
    editor.dataset.dirty = String(Boolean(dirty));
    status.textContent = dirty ? "Not saved yet." : selected && selected.edited ? "Saved (edited by hand)." : "";
  }

  function showValues() {
    for (const m of MARKERS) fields[m].value = String(values[`${m}_ms`]);
    markDirty();
  }

  function row(line) {
    const cells = [
      h("span", { class: `confidence ${confidenceClass(line.confidence)}` }, line.confidence.toFixed(2)),
      line.alias, line.wav_name,
      ...MARKERS.map((m) => line[`${m}_ms`].toFixed(0)),
      [line.edited ? h("span", { class: "badge", "data-testid": "edited-badge" }, "edited") : null, " ", line.note],
    ];
    const tr = h("tr", { "data-testid": "oto-line", "data-line-id": line.id, "data-alias": line.alias,
      "data-confidence": String(line.confidence), onclick: () => select(line) }, cells.map((c) => h("td", {}, c)));
    if (selected && selected.id === line.id) tr.classList.add("selected");
    return tr;
  }

  function showLines() {
    lines.sort((a, b) => a.confidence - b.confidence);
    table.replaceChildren(...lines.map(row));
    empty.hidden = lines.length > 0;
  }

  async function load() {
    lines = (await api.otoLines(projectId)).lines;
    showLines();
  }

  function takeBuffer(takeId) {
    if (!decoded.has(takeId)) {
      decoded.set(takeId, request(api.takeAudioUrl(takeId))
        .then((response) => response.arrayBuffer())
        .then((bytes) => audio.decodeAudioData(bytes)));
    }
    return decoded.get(takeId);
  }

  async function select(line) {
    selected = line;
    values = lineValues(line);
    showLines();
    editor.hidden = false;
    editor.dataset.lineId = line.id;
    editor.dataset.ready = "false";
    info.alias.textContent = line.alias;
    info.wav.textContent = line.wav_name;
    info.confidence.textContent = line.confidence.toFixed(2);
    info.confidence.className = `confidence ${confidenceClass(line.confidence)}`;
    info.note.textContent = line.note || "";
    showValues();
    try {
      const buffer = await takeBuffer(line.take_id);
      if (selected !== line) return;
      canvas.setTake({
        samples: mono(buffer),
        sampleRateHz: buffer.sampleRate,
        durationMs: line.duration_ms || 1000 * buffer.duration,
      });
      canvas.setValues(values, { fit: true });
      editor.dataset.ready = "true";
    } catch (error) {
      showError(error);
    }
  }

  async function play() {
    if (!selected) return;
    try {
      await audio.resume();
      const buffer = await takeBuffer(selected.take_id);
      if (playing) playing.stop();
      const { startMs, endMs } = regionMs(values, selected.duration_ms || 1000 * buffer.duration);
      const source = audio.createBufferSource();
      source.buffer = buffer;
      source.connect(audio.destination);
      source.onended = () => {
        playButton.dataset.state = "idle";
        if (playing === source) playing = null;
      };
      playButton.dataset.state = "playing";
      playButton.dataset.regionMs = `${startMs.toFixed(1)}-${endMs.toFixed(1)}`;
      source.start(0, Math.max(0, startMs / 1000), Math.max(0.01, (endMs - startMs) / 1000));
      playing = source;
    } catch (error) {
      showError(error);
    }
  }

  async function save() {
    if (!selected) return;
    saveButton.disabled = true;
    try {
      const saved = await api.saveOtoLine(projectId, selected.id, values);
      lines = lines.map((line) => (line.id === saved.id ? saved : line));
      selected = saved;
      values = lineValues(saved);
      showLines();
      showValues();
      canvas.setValues(values);
      editor.dataset.saved = "true";
      status.textContent = "Saved.";
    } catch (error) {
      showError(error);
      status.textContent = "Not saved: see the message above.";
    } finally {
      saveButton.disabled = false;
    }
  }

  async function generate() {
    runButton.disabled = true;
    try {
      const { job } = await api.startOto(projectId);
      const final = await watchJob(job, progress.show);
      if (final.state === "failed") showError(`Generating the oto failed: ${final.error ?? "unknown error"}`);
      await load();
      const again = selected && lines.find((line) => line.id === selected.id);
      if (again) select(again);
      else if (lines.length) select(lines[0]);
    } catch (error) {
      showError(error);
    } finally {
      runButton.disabled = false;
    }
  }

  for (const m of MARKERS) {
    fields[m].addEventListener("input", () => {
      const number = Number(fields[m].value);
      if (fields[m].value === "" || !Number.isFinite(number)) return;
      values = { ...values, [`${m}_ms`]: number };
      canvas.setValues(values);
      markDirty();
    });
    fields[m].addEventListener("keydown", (event) => {
      if (event.key === "Enter") save();
    });
  }
  runButton.addEventListener("click", generate);
  playButton.addEventListener("click", play);
  saveButton.addEventListener("click", save);
  revertButton.addEventListener("click", () => {
    values = lineValues(selected);
    showValues();
    canvas.setValues(values);
  });
  allButton.addEventListener("click", () => canvas.showAll());
  fitButton.addEventListener("click", () => {
    canvas.fit();
    canvas.draw();
  });

  function onKey(event) {
    const target = event.target;
    if (event.key !== " " || event.ctrlKey || event.metaKey || event.altKey) return;
    if (target && (target.isContentEditable || ["INPUT", "SELECT", "TEXTAREA", "BUTTON"].includes(target.tagName))) return;
    event.preventDefault();
    play();
  }
  window.addEventListener("keydown", onKey);

  await load();
  if (lines.length) select(lines[0]);

  return {
    unmount() {
      window.removeEventListener("keydown", onKey);
      if (playing) playing.stop();
      audio.close();
    },
  };
}
