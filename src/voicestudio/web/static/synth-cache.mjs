// Voice models kept in the browser (Cache API), so a stored voice speaks with no server in the loop.

const CACHE_NAME = "voicestudio-models-v1";
export const FILES = ["model.onnx", "model.onnx.json"];

/** The studio URL of one model file (also its key in the cache). */
export function modelUrl(modelId, file) {
  return new URL(`/api/models/${encodeURIComponent(modelId)}/${file}`, location.origin).href;
}

function cacheAvailable() {
  return "caches" in globalThis;
}

/** Whether both files of the model are stored in this browser. */
export async function isStored(modelId) {
  if (!cacheAvailable()) return false;
  const cache = await caches.open(CACHE_NAME);
  const found = await Promise.all(FILES.map((file) => cache.match(modelUrl(modelId, file))));
  return found.every(Boolean);
}

/** Download the model's files from the studio (reporting the fraction done) and keep them in the browser. */
export async function store(modelId, onProgress = () => {}) {
  if (!cacheAvailable()) throw new Error("This browser has no Cache API here (it needs https or localhost).");
  const cache = await caches.open(CACHE_NAME);
  const bodies = [];
  for (const file of FILES) {
    const response = await fetch(modelUrl(modelId, file));
    if (!response.ok) throw new Error(`The studio answered ${response.status} for ${file} of ${modelId}.`);
    const total = Number(response.headers.get("Content-Length")) || 0;
    const reader = response.body.getReader();
    const chunks = [];
    let received = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      received += value.length;
      if (file === "model.onnx" && total) onProgress(received / total);
    }
    bodies.push(new Blob(chunks, { type: response.headers.get("Content-Type") ?? "" }));
  }
  // Both files go in only once both arrived, so the cache never holds half a model.
  await Promise.all(FILES.map((file, index) =>
    cache.put(modelUrl(modelId, file), new Response(bodies[index], { headers: { "Content-Type": bodies[index].type } }))));
  onProgress(1);
}

/** Forget the stored model. */
export async function remove(modelId) {
  if (!cacheAvailable()) return;
  const cache = await caches.open(CACHE_NAME);
  await Promise.all(FILES.map((file) => cache.delete(modelUrl(modelId, file))));
}

/** The model's bytes and config: from the browser when stored (no request), else from the studio.
 * Returns {modelBytes, config, from: "browser"|"studio"}. */
export async function readModel(modelId) {
  if (await isStored(modelId)) {
    const cache = await caches.open(CACHE_NAME);
    const [model, config] = await Promise.all(FILES.map((file) => cache.match(modelUrl(modelId, file))));
    return { modelBytes: new Uint8Array(await model.arrayBuffer()), config: await config.json(), from: "browser" };
  }
  const [model, config] = await Promise.all(FILES.map(async (file) => {
    const response = await fetch(modelUrl(modelId, file));
    if (!response.ok) throw new Error(`The studio answered ${response.status} for ${file} of ${modelId}.`);
    return response;
  }));
  return { modelBytes: new Uint8Array(await model.arrayBuffer()), config: await config.json(), from: "studio" };
}
