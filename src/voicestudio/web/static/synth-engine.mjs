// A piper voice in onnxruntime-web, served by the studio itself: the WebGPU build when the browser has an
// adapter and its provider loads, else the WASM build, with threads when the page is cross-origin isolated.

const ORT_DIR = new URL("./vendor/onnxruntime-web/", import.meta.url);
const MAX_THREADS = 4;
const INT16_MAX = 32767;

let runtime = null; // one onnxruntime-web per page: its WASM starts once, with a fixed number of threads

/** The page's WebGPU adapter, or null (no navigator.gpu, or no adapter offered). */
export async function webgpuAdapter() {
  if (!("gpu" in navigator)) return null;
  try {
    return await navigator.gpu.requestAdapter();
  } catch {
    return null;
  }
}

/** Threads the WASM backend can use here: 1 unless the page is cross-origin isolated. */
export function usableThreads(asked = null) {
  if (!globalThis.crossOriginIsolated) return 1;
  const cores = navigator.hardwareConcurrency || 1;
  return Math.max(1, Math.min(asked ?? Math.min(cores, MAX_THREADS), cores));
}

/** Start onnxruntime-web once per page: {ort, backend: "webgpu"|"wasm", threads, why}. `prefer` is
 * "auto", "webgpu" or "wasm"; `threads` the WASM threads (default: up to 4 when isolated). */
export async function loadRuntime({ prefer = "auto", threads = null } = {}) {
  if (!runtime) {
    runtime = (async () => {
      let backend = "wasm";
      let why = "";
      if (prefer !== "wasm") {
        if (await webgpuAdapter()) backend = "webgpu";
        else why = "no WebGPU adapter in this browser";
      }
      const bundle = backend === "webgpu" ? "ort.webgpu.min.mjs" : "ort.wasm.min.mjs";
      const ort = await import(new URL(bundle, ORT_DIR).href);
      ort.env.wasm.wasmPaths = ORT_DIR.href;
      ort.env.wasm.numThreads = usableThreads(threads);
      ort.env.logLevel = "error";
      return { ort, backend, threads: ort.env.wasm.numThreads, why };
    })();
    runtime.catch(() => {
      runtime = null;
    });
  }
  return runtime;
}

/** An inference session on the runtime's backend; when WebGPU cannot run the model, WASM, saying why.
 * Returns {session, backend, why}. */
export async function createSession(rt, modelBytes) {
  if (rt.backend === "webgpu") {
    try {
      const session = await rt.ort.InferenceSession.create(modelBytes, { executionProviders: ["webgpu"] });
      return { session, backend: "webgpu", why: "" };
    } catch (error) {
      const session = await rt.ort.InferenceSession.create(modelBytes, { executionProviders: ["wasm"] });
      return { session, backend: "wasm", why: `WebGPU could not load the model: ${error.message}` };
    }
  }
  const session = await rt.ort.InferenceSession.create(modelBytes, { executionProviders: ["wasm"] });
  return { session, backend: "wasm", why: rt.why };
}

/** Noise and length scales from a piper config ({noiseScale, lengthScale, noiseW}). */
export function configScales(config) {
  const inference = config.inference ?? {};
  return {
    noiseScale: inference.noise_scale ?? 0.667,
    lengthScale: inference.length_scale ?? 1.0,
    noiseW: inference.noise_w ?? 0.8,
  };
}

/** One sentence's phoneme ids → the model's raw audio (Float32Array at the config's sample rate). */
export async function idsToAudio(rt, session, config, ids, scales, speakerId = null) {
  const { Tensor } = rt.ort;
  const feeds = {
    input: new Tensor("int64", BigInt64Array.from(ids, BigInt), [1, ids.length]),
    input_lengths: new Tensor("int64", BigInt64Array.from([BigInt(ids.length)]), [1]),
    scales: new Tensor("float32", Float32Array.from([scales.noiseScale, scales.lengthScale, scales.noiseW]), [3]),
  };
  if ((config.num_speakers ?? 1) > 1) {
    feeds.sid = new Tensor("int64", BigInt64Array.from([BigInt(speakerId ?? config.default_speaker_id ?? 0)]), [1]);
  }
  const results = await session.run(feeds);
  const output = results[session.outputNames[0]];
  const audio = new Float32Array(output.data);
  output.dispose?.();
  return audio;
}

/** Scale to a peak of 1 and clip, as piper does for each sentence before playing or saving it. */
export function normalized(audio) {
  let peak = 0;
  for (const sample of audio) peak = Math.max(peak, Math.abs(sample));
  const out = new Float32Array(audio.length);
  if (peak < 1e-8) return out;
  for (let i = 0; i < audio.length; i += 1) out[i] = Math.max(-1, Math.min(1, audio[i] / peak));
  return out;
}

/** Float samples in [-1, 1] → a 16-bit PCM mono WAV file. */
export function wavBlob(samples, sampleRateHz) {
  const bytes = new ArrayBuffer(44 + samples.length * 2);
  const view = new DataView(bytes);
  const text = (offset, value) => [...value].forEach((c, i) => view.setUint8(offset + i, c.charCodeAt(0)));
  text(0, "RIFF");
  view.setUint32(4, 36 + samples.length * 2, true);
  text(8, "WAVE");
  text(12, "fmt ");
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, sampleRateHz, true);
  view.setUint32(28, sampleRateHz * 2, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  text(36, "data");
  view.setUint32(40, samples.length * 2, true);
  samples.forEach((sample, i) => {
    view.setInt16(44 + i * 2, Math.trunc(Math.max(-1, Math.min(1, sample)) * INT16_MAX), true);
  });
  return new Blob([bytes], { type: "audio/wav" });
}
