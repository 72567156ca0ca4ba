// #/synth[/MODEL]: type text, hear a voice model speak it, computed in this browser (onnxruntime-web,
// espeak-ng in WASM); "Store in browser" keeps the model so it speaks without the server. Voices whose
// config names another phoneme type (Japanese) get their phonemes from the studio server instead.
// Page query (before the #): ?ep=auto|webgpu|wasm&threads=N picks the backend for the whole page.

import { json } from "./api.mjs";
import { h, showError } from "./dom.mjs";
import { isStored, readModel, remove, store } from "./synth-cache.mjs";
import { configScales, createSession, idsToAudio, loadRuntime, normalized, wavBlob } from "./synth-engine.mjs";
import { loadEspeak, phonemizesInBrowser, serverPhonemeIds } from "./synth-phonemize.mjs";

const DEFAULT_TEXT = "Hello! This voice is speaking inside your browser, with no server in the loop.";

function pageOptions() {
  const query = new URLSearchParams(location.search);
  const threads = Number(query.get("threads"));
  return { prefer: query.get("ep") ?? "auto", threads: Number.isInteger(threads) && threads > 0 ? threads : null };
}

const megabytes = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;

function cardLines(card) {
  const facts = [card.language, `${card.sample_rate_hz} Hz`, megabytes(card.model_bytes)];
  if (card.size) facts.push(`${card.size} preset`);
  if (card.steps !== null) facts.push(`${card.steps} steps`);
  if (card.training_time_s !== null) facts.push(`trained in ${(card.training_time_s / 60).toFixed(1)} min`);
  if (card.device) facts.push(`on ${card.device}`);
  return [h("p", { class: "muted" }, facts.join(" · ")),
    card.consent_sentence ? h("blockquote", { "data-testid": "synth-consent" }, card.consent_sentence) : null];
}

export async function mount(root, params) {
  const options = pageOptions();
  const models = await json("/api/models");
  const state = h("span", { class: "synth-state", "data-testid": "synth-state", "data-state": "idle" }, "");
  const backend = h("span", { class: "badge", "data-testid": "synth-backend" }, "…");
  const select = h("select", { "data-testid": "synth-model" },
    models.map((card) => h("option", { value: card.id }, card.name)));
  const card = h("div", { "data-testid": "synth-card" });
  const stored = h("span", { "data-testid": "synth-stored", "data-stored": "false" }, "");
  const storeButton = h("button", { type: "button", "data-testid": "synth-store" }, "Store in browser");
  const removeButton = h("button", { type: "button", class: "secondary", "data-testid": "synth-remove", hidden: true },
    "Remove");
  const reload = h("button", { type: "button", class: "secondary", "data-testid": "synth-load" }, "Reload voice");
  const storeProgress = h("progress", { max: 1, value: 0, hidden: true, "data-testid": "synth-store-progress" });
  const text = h("textarea", { rows: 4, class: "synth-text", "data-testid": "synth-text" }, DEFAULT_TEXT);
  const speak = h("button", { type: "button", "data-testid": "synth-speak", disabled: true }, "Speak");
  const phonemes = h("p", { class: "synth-phonemes muted", "data-testid": "synth-phonemes" });
  const phonemizer = h("p", { class: "muted", "data-testid": "synth-phonemizer" });
  const audio = h("audio", { controls: true, "data-testid": "synth-audio" });
  const download = h("a", { class: "download", "data-testid": "synth-download", hidden: true, download: "speech.wav" },
    "⬇ Download WAV");
  const result = h("p", { class: "muted", "data-testid": "synth-result" });

  let voice = null; // {id, config, session, backend, from, scales, phonemizer: "browser" | "server"}
  let espeak = null;
  let rt = null;
  let audioUrl = null;
  let loading = null;

  const setState = (name, words) => {
    state.dataset.state = name;
    state.textContent = words;
  };

  async function showStored(modelId) {
    const yes = await isStored(modelId);
    stored.dataset.stored = String(yes);
    stored.textContent = yes ? "Stored in this browser" : "Not stored in this browser";
    storeButton.hidden = yes;
    removeButton.hidden = !yes;
  }

  async function load(modelId) {
    setState("loading", "Loading the voice…");
    speak.disabled = true;
    const chosen = models.find((item) => item.id === modelId);
    card.replaceChildren(...(chosen ? cardLines(chosen) : [h("p", {}, `There is no model ${modelId}.`)]));
    await showStored(modelId);
    // The card's phoneme type starts espeak early; the config read next decides.
    const early = chosen && phonemizesInBrowser(chosen) ? loadEspeak() : null;
    [espeak, rt] = await Promise.all([early ?? espeak, loadRuntime(options)]);
    const { modelBytes, config, from } = await readModel(modelId);
    const where = phonemizesInBrowser(config) ? "browser" : "server";
    if (where === "browser") {
      espeak = espeak ?? (await loadEspeak());
      await espeak.useVoice(config.espeak.voice);
    }
    const made = await createSession(rt, modelBytes);
    if (voice && voice.session) await voice.session.release();
    voice = { id: modelId, config, session: made.session, backend: made.backend, from, scales: configScales(config),
      phonemizer: where };
    phonemizer.dataset.phonemizer = where;
    phonemizer.textContent = where === "browser"
      ? "Phonemes from this browser (espeak-ng)"
      : `Phonemes from the studio server (${config.phoneme_type} phonemes), so this voice needs the server`;
    backend.textContent = made.backend === "webgpu" ? "WebGPU" : `WASM · ${rt.threads} thread${rt.threads > 1 ? "s" : ""}`;
    backend.title = made.why;
    Object.assign(backend.dataset, { backend: made.backend, threads: String(rt.threads), why: made.why });
    state.dataset.from = from;
    setState("ready", from === "browser" ? "Ready (from this browser)" : "Ready (from the studio)");
    speak.disabled = false;
  }

  function startLoad(modelId) {
    loading = load(modelId).catch((error) => {
      setState("failed", "Could not load the voice");
      showError(error);
      throw error;
    });
    loading.catch(() => {});
    return loading;
  }

  /** [{phonemes, ids}] per sentence: at once from espeak in the page, or a promise from the server. */
  function sentencesOf(words) {
    if (voice.phonemizer === "browser") return espeak.phonemeIdsFor(voice.config, words);
    return serverPhonemeIds(voice.id, words);
  }

  async function say() {
    speak.disabled = true;
    setState("speaking", "Speaking…");
    try {
      const started = performance.now();
      const sentences = await sentencesOf(text.value);
      if (sentences.length === 0) throw new Error("There is nothing to say: type some words first.");
      const pieces = [];
      for (const sentence of sentences) {
        pieces.push(normalized(await idsToAudio(rt, voice.session, voice.config, sentence.ids, voice.scales)));
      }
      const synthMs = performance.now() - started;
      const samples = new Float32Array(pieces.reduce((sum, piece) => sum + piece.length, 0));
      pieces.reduce((at, piece) => (samples.set(piece, at), at + piece.length), 0);
      const rate = voice.config.audio.sample_rate;
      const audioMs = (1000 * samples.length) / rate;
      if (audioUrl) URL.revokeObjectURL(audioUrl);
      audioUrl = URL.createObjectURL(wavBlob(samples, rate));
      audio.src = audioUrl;
      download.href = audioUrl;
      download.hidden = false;
      phonemes.textContent = sentences.map((sentence) => sentence.phonemes.join("")).join(" ");
      Object.assign(result.dataset, { audioMs: audioMs.toFixed(1), synthMs: synthMs.toFixed(1),
        sentences: String(sentences.length) });
      result.textContent = `${(audioMs / 1000).toFixed(2)} s of audio in ${(synthMs / 1000).toFixed(2)} s ` +
        `(real-time factor ${(synthMs / audioMs).toFixed(3)})`;
      setState("done", "Done");
      audio.play().catch(() => {}); // autoplay may be refused; the controls stay there
    } catch (error) {
      setState("failed", "Could not speak");
      showError(error);
    } finally {
      speak.disabled = false;
    }
  }

  select.addEventListener("change", () => {
    location.hash = `#/synth/${encodeURIComponent(select.value)}`;
  });
  speak.addEventListener("click", say);
  reload.addEventListener("click", () => startLoad(select.value));
  storeButton.addEventListener("click", async () => {
    storeButton.disabled = true;
    storeProgress.hidden = false;
    try {
      await store(select.value, (fraction) => {
        storeProgress.value = fraction;
      });
      await showStored(select.value);
    } catch (error) {
      showError(error);
    } finally {
      storeButton.disabled = false;
      storeProgress.hidden = true;
    }
  });
  removeButton.addEventListener("click", async () => {
    await remove(select.value);
    await showStored(select.value);
  });

  root.append(h("section", { class: "card synth", "data-testid": "synth-page" },
    h("h2", {}, "Speak with a voice model ", backend),
    models.length === 0
      ? h("p", { "data-testid": "synth-empty" },
        "There is no voice model yet. Upgrade a voicebank to an AI voice, or put a piper model " +
        "(model.onnx + model.onnx.json) in the studio's models folder.")
      : h("div", {},
        h("label", {}, "Voice ", select), card,
        h("div", { class: "buttons" }, stored, storeButton, removeButton, reload, storeProgress),
        text, h("div", { class: "buttons" }, speak, state), phonemes, phonemizer, audio, h("div", {}, download),
        result)));

  // For tests and benchmarks: the steps of the page without the buttons.
  window.voicestudioSynth = {
    loaded: () => loading,
    info: () => voice && { backend: voice.backend, threads: rt.threads, from: voice.from, why: backend.dataset.why,
      phonemizer: voice.phonemizer },
    setScales: (scales) => Object.assign(voice.scales, scales),
    phonemeIds: (words) => sentencesOf(words), // an array for espeak voices, a promise for server ones
    rawAudio: async (ids) => Array.from(await idsToAudio(rt, voice.session, voice.config, ids, voice.scales)),
  };

  function update(next) {
    const modelId = next.modelId ?? models[0]?.id;
    if (!modelId || (voice && voice.id === modelId && loading)) return;
    select.value = modelId;
    startLoad(modelId);
  }
  update(params);
  return {
    update,
    unmount() {
      if (audioUrl) URL.revokeObjectURL(audioUrl);
      if (voice) voice.session.release();
      delete window.voicestudioSynth;
    },
  };
}
