// The "Upgrade to AI Voice" calls: consent, readiness, training, trained models (errors arrive in words).

import { json, request } from "./api.mjs";

const project = (id) => `/api/projects/${encodeURIComponent(id)}`;
const model = (id) => `/api/models/${encodeURIComponent(id)}`;

export const voiceApi = {
  consentSentence: (language) => json(`/api/consent-sentence?${new URLSearchParams({ language })}`),
  training: (projectId) => json(`${project(projectId)}/training`),
  uploadConsent: async (projectId, wavBlob) => {
    const response = await request(`${project(projectId)}/consent`, {
      method: "POST",
      headers: { "Content-Type": "audio/wav", Accept: "application/json" },
      body: wavBlob,
    });
    return response.json();
  },
  startTraining: (projectId, { preset, steps, device, base }) =>
    json(`${project(projectId)}/voices`, { method: "POST", body: { preset, steps, device, base } }),
  models: () => json("/api/models"),
  modelUrl: (modelId) => `${model(modelId)}/model.onnx`,
  configUrl: (modelId) => `${model(modelId)}/model.onnx.json`,
};

/** Remember the project's latest training job in this browser, so the page finds it again after a reload. */
export const rememberedJob = {
  key: (projectId) => `voicestudio.voice-job.${projectId}`,
  get(projectId) {
    try {
      return localStorage.getItem(this.key(projectId));
    } catch {
      return null; // storage refused (private mode): the page simply starts fresh
    }
  },
  set(projectId, jobId) {
    try {
      localStorage.setItem(this.key(projectId), jobId);
    } catch {
      // as above
    }
  },
};

const FINISHED = new Set(["succeeded", "failed", "cancelled"]);

/**
 * Follow a job over /ws/jobs/{id} (polling /api/jobs/{id} when the socket drops): `onUpdate(job)` for every
 * message. Returns {done: Promise of the final job, stop()}; stop() closes the socket when the page goes away.
 */
export function followJob(job, onUpdate) {
  let stopped = false;
  let socket = null;
  let last = job;
  const done = new Promise((resolve, reject) => {
    const take = (next) => {
      if (stopped) return false;
      last = next;
      onUpdate(next);
      if (FINISHED.has(next.state)) {
        stopped = true;
        if (socket) socket.close();
        resolve(next);
        return false;
      }
      return true;
    };
    const poll = async () => {
      try {
        while (!stopped && take(await json(`/api/jobs/${encodeURIComponent(job.id)}`))) {
          await new Promise((wake) => setTimeout(wake, 1000));
        }
      } catch (error) {
        if (!stopped) reject(error);
      }
    };
    if (!take(job)) return;
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    try {
      socket = new WebSocket(`${scheme}//${location.host}/ws/jobs/${encodeURIComponent(job.id)}`);
    } catch {
      poll();
      return;
    }
    socket.onmessage = (event) => {
      let next;
      try {
        next = JSON.parse(event.data);
      } catch {
        return; // not a job message
      }
      take(next);
    };
    socket.onclose = () => {
      if (!stopped && !FINISHED.has(last.state)) poll();
    };
  });
  return {
    done,
    stop() {
      stopped = true;
      if (socket) socket.close();
    },
  };
}
