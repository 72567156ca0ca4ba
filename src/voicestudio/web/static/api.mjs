// Talking to the studio server: JSON in and out, errors turned into sentences a singer can act on.

/** An API answer that was not a success, carrying the server's own words ({"error": ...}). */
export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.name = "ApiError";
    this.status = status;
  }
}

/** The message of a failed response: the server's {"error"} text, or what we know about the failure. */
async function errorMessage(response) {
  const text = await response.text();
  try {
    const body = JSON.parse(text);
    if (body && typeof body.error === "string") return body.error;
    if (body && typeof body.detail === "string") return body.detail;
  } catch {
    // not JSON: fall through to the status line
  }
  return `The server answered ${response.status} ${response.statusText || ""}`.trim() +
    ". Try again; if it keeps happening, look at the server's log.";
}

let csrfToken = null; // the signed-in session's token; sent with every request that changes something
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Remember the session's CSRF token (null when signed out, or when the studio has no accounts). */
export function setCsrfToken(token) {
  csrfToken = token ?? null;
}

/** fetch() that throws ApiError with a readable message when the network or the server fails. */
export async function request(path, options = {}) {
  let response;
  const method = (options.method ?? "GET").toUpperCase();
  if (csrfToken && !SAFE_METHODS.has(method)) {
    options = { ...options, headers: { ...(options.headers ?? {}), "X-CSRF-Token": csrfToken } };
  }
  try {
    response = await fetch(path, options);
  } catch (error) {
    throw new ApiError(`Could not reach the studio server (${error.message}). Check that it is running.`, 0);
  }
  if (response.status === 401 && !path.startsWith("/api/account/sign-")) {
    csrfToken = null;
    if (!location.hash.startsWith("#/sign-in")) location.hash = "#/sign-in";
  }
  if (!response.ok) throw new ApiError(await errorMessage(response), response.status);
  return response;
}

/** GET/POST/PUT a JSON resource; `body` (if any) is sent as JSON. */
export async function json(path, { method = "GET", body } = {}) {
  const options = { method, headers: { Accept: "application/json" } };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await request(path, options);
  return response.status === 204 ? null : response.json();
}

export const api = {
  health: () => json("/api/health"),
  promptSets: () => json("/api/prompt-sets"),
  promptSet: (name) => json(`/api/prompt-sets/${encodeURIComponent(name)}`),
  exampleUrl: (set, promptId) =>
    `/api/prompt-sets/${encodeURIComponent(set)}/prompts/${encodeURIComponent(promptId)}/example.wav`,
  projects: () => json("/api/projects"),
  project: (id) => json(`/api/projects/${encodeURIComponent(id)}`),
  createProject: (name, language, promptSets) =>
    json("/api/projects", { method: "POST", body: { name, language, prompt_sets: promptSets } }),
  uploadTake: async (projectId, promptSet, promptId, wavBlob) => {
    const query = new URLSearchParams({ prompt_set: promptSet, prompt_id: promptId });
    const response = await request(`/api/projects/${encodeURIComponent(projectId)}/takes?${query}`, {
      method: "POST",
      headers: { "Content-Type": "audio/wav", Accept: "application/json" },
      body: wavBlob,
    });
    return response.json();
  },
  takeAudioUrl: (takeId) => `/api/takes/${encodeURIComponent(takeId)}/audio`,
  takePictureUrl: (takeId, kind) => `/api/takes/${encodeURIComponent(takeId)}/${kind}.png`,
  startOto: (projectId) => json(`/api/projects/${encodeURIComponent(projectId)}/oto`, { method: "POST" }),
  otoLines: (projectId) => json(`/api/projects/${encodeURIComponent(projectId)}/oto`),
  saveOtoLine: (projectId, lineId, values) =>
    json(`/api/projects/${encodeURIComponent(projectId)}/oto/${encodeURIComponent(lineId)}`, {
      method: "PUT",
      body: values,
    }),
  startVoicebank: (projectId, name, encoding) =>
    json(`/api/projects/${encodeURIComponent(projectId)}/voicebanks`, {
      method: "POST",
      body: { ...(name ? { name } : {}), ...(encoding ? { encoding } : {}) },
    }),
  downloadUrl: (voicebankId) => `/api/voicebanks/${encodeURIComponent(voicebankId)}/download`,
  job: (id) => json(`/api/jobs/${encodeURIComponent(id)}`),
  account: () => json("/api/account"),
  usage: () => json("/api/account/usage"),
  signIn: (email, password) => json("/api/account/sign-in", { method: "POST", body: { email, password } }),
  signUp: (email, password) => json("/api/account/sign-up", { method: "POST", body: { email, password } }),
  signOut: () => json("/api/account/sign-out", { method: "POST" }),
  tokens: () => json("/api/account/tokens"),
  createToken: (name) => json("/api/account/tokens", { method: "POST", body: { name } }),
  revokeToken: (id) => json(`/api/account/tokens/${encodeURIComponent(id)}`, { method: "DELETE" }),
  deleteAccount: (password) => json("/api/account", { method: "DELETE", body: { password } }),
  exportUrl: () => "/api/account/export",
  cancelJob: (id) => json(`/api/jobs/${encodeURIComponent(id)}/cancel`, { method: "POST" }),
};

const FINISHED = new Set(["succeeded", "failed", "cancelled"]);

/** True once a job will not change any more. */
export const jobFinished = (job) => FINISHED.has(job.state);

/**
 * Follow a job until it finishes: `onUpdate(job)` for every change it reports through /ws/jobs/{id}
 * (or, when the WebSocket cannot be opened, by polling /api/jobs/{id}); resolves with the final job.
 */
export function watchJob(job, onUpdate) {
  onUpdate(job);
  if (jobFinished(job)) return Promise.resolve(job);
  return new Promise((resolve, reject) => {
    let last = job;
    let settled = false;
    const finish = (final) => {
      if (settled) return;
      settled = true;
      resolve(final);
    };
    const poll = async () => {
      try {
        while (!settled) {
          last = await api.job(job.id);
          onUpdate(last);
          if (jobFinished(last)) return finish(last);
          await new Promise((wake) => setTimeout(wake, 500));
        }
      } catch (error) {
        settled = true;
        reject(error);
      }
    };
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    let socket;
    try {
      socket = new WebSocket(`${scheme}//${location.host}/ws/jobs/${encodeURIComponent(job.id)}`);
    } catch {
      poll();
      return;
    }
    socket.onmessage = (event) => {
      try {
        last = JSON.parse(event.data);
      } catch {
        return;
      }
      onUpdate(last);
      if (jobFinished(last)) {
        socket.close();
        finish(last);
      }
    };
    // A socket that closes before the job finished (a proxy without WebSockets, a restart): poll instead.
    socket.onclose = () => {
      if (!settled && !jobFinished(last)) poll();
    };
  });
}
