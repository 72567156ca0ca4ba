// The microphone, untouched: no echo cancellation, noise suppression or automatic gain, captured at the
// rate the device delivers (whatever the AudioContext reports), mixed to mono by an AudioWorklet.

import { concatChunks } from "./wav.mjs";

const RAW_AUDIO = { echoCancellation: false, noiseSuppression: false, autoGainControl: false };

/** Explain a getUserMedia failure in words a singer can act on. */
function microphoneProblem(error) {
  if (error && error.name === "NotAllowedError") {
    return "The browser did not allow the microphone. Allow it for this page (the icon in the address bar) and press R again.";
  }
  if (error && error.name === "NotFoundError") {
    return "No microphone was found. Plug one in (or choose it in the system settings) and press R again.";
  }
  if (!window.isSecureContext) {
    return "Browsers only give the microphone to pages on https:// or localhost. Open the studio that way.";
  }
  return `The microphone could not be opened (${error ? error.message : "unknown error"}). Check that no other program holds it.`;
}

export class Microphone {
  /** `onLevel({peak, clipped})` is called about 20 times a second while the microphone is open. */
  constructor(onLevel) {
    this.onLevel = onLevel;
    this.context = null;
    this.stream = null;
    this.node = null;
    this.chunks = [];
    this.frames = 0;
    this.recording = false;
    this.stopped = null;
  }

  get isOpen() {
    return this.context !== null;
  }

  /** Sample rate of the capture, as the AudioContext reports it (never assumed). */
  get sampleRateHz() {
    return this.context ? this.context.sampleRate : 0;
  }

  /** Recorded length so far, in ms. */
  get recordedMs() {
    return this.context ? (1000 * this.frames) / this.context.sampleRate : 0;
  }

  /** Ask for the microphone and start the level meter; throws an Error with a readable message. */
  async open() {
    if (this.isOpen) return;
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) throw new Error(microphoneProblem(null));
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: RAW_AUDIO, video: false });
    } catch (error) {
      throw new Error(microphoneProblem(error));
    }
    const deviceRateHz = stream.getAudioTracks()[0]?.getSettings().sampleRate;
    // Run the context at the device's own rate when it says one, so nothing is resampled on the way.
    let context;
    try {
      context = deviceRateHz ? new AudioContext({ sampleRate: deviceRateHz }) : new AudioContext();
    } catch {
      context = new AudioContext();
    }
    await context.audioWorklet.addModule(new URL("./capture-worklet.mjs", import.meta.url));
    const source = context.createMediaStreamSource(stream);
    const node = new AudioWorkletNode(context, "voicestudio-capture", {
      numberOfInputs: 1,
      numberOfOutputs: 1,
      outputChannelCount: [1],
    });
    node.port.onmessage = (event) => this.receive(event.data);
    // The node must be pulled by the destination to run; a silent gain keeps the voice out of the speakers.
    const mute = context.createGain();
    mute.gain.value = 0;
    source.connect(node).connect(mute).connect(context.destination);
    await context.resume();
    this.context = context;
    this.stream = stream;
    this.node = node;
  }

  receive(message) {
    if (message.type === "level") {
      this.onLevel(message);
    } else if (message.type === "samples") {
      this.chunks.push(message.samples);
      this.frames += message.samples.length;
    } else if (message.type === "stopped" && this.stopped) {
      this.stopped();
      this.stopped = null;
    }
  }

  /** Start keeping samples (opening the microphone first if needed). */
  async start() {
    await this.open();
    this.chunks = [];
    this.frames = 0;
    this.recording = true;
    this.node.port.postMessage("start");
  }

  /** Stop keeping samples; resolves with {samples (mono Float32Array), sampleRateHz}. */
  async stop() {
    if (!this.recording) return null;
    this.recording = false;
    await new Promise((resolve) => {
      this.stopped = resolve;
      this.node.port.postMessage("stop");
    });
    const samples = concatChunks(this.chunks);
    this.chunks = [];
    return { samples, sampleRateHz: this.context.sampleRate };
  }

  /** Give the microphone back (the browser's recording indicator goes off). */
  async close() {
    this.recording = false;
    if (this.stream) this.stream.getTracks().forEach((track) => track.stop());
    if (this.context) await this.context.close();
    this.context = null;
    this.stream = null;
    this.node = null;
  }
}
