// AudioWorklet processor: mixes the microphone to mono, hands over the samples while recording, and
// reports the level (peak, clipped samples) about 20 times a second for the meter, recording or not.

const CLIP_LEVEL = 0.999; // a float sample this close to full scale came from a clipped converter
const BATCH_FRAMES = 4096; // samples sent to the page per message while recording

class CaptureProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.recording = false;
    this.batch = new Float32Array(BATCH_FRAMES);
    this.filled = 0;
    this.peak = 0;
    this.clipped = 0;
    this.levelFrames = 0;
    this.levelEvery = Math.round(sampleRate / 20);
    this.port.onmessage = (event) => {
      if (event.data === "start") {
        this.filled = 0;
        this.recording = true;
      } else if (event.data === "stop") {
        this.flush();
        this.recording = false;
        this.port.postMessage({ type: "stopped" });
      }
    };
  }

  flush() {
    if (this.filled === 0) return;
    const samples = this.batch.slice(0, this.filled);
    this.filled = 0;
    this.port.postMessage({ type: "samples", samples }, [samples.buffer]);
  }

  process(inputs) {
    const channels = inputs[0];
    if (!channels || channels.length === 0) return true;
    const frames = channels[0].length;
    const gain = 1 / channels.length;
    for (let i = 0; i < frames; i += 1) {
      let sum = 0;
      for (const channel of channels) {
        const x = channel[i];
        sum += x;
        if (x >= CLIP_LEVEL || x <= -CLIP_LEVEL) this.clipped += 1;
      }
      const mono = sum * gain;
      const magnitude = Math.abs(mono);
      if (magnitude > this.peak) this.peak = magnitude;
      if (this.recording) {
        this.batch[this.filled] = mono;
        this.filled += 1;
        if (this.filled === BATCH_FRAMES) this.flush();
      }
    }
    this.levelFrames += frames;
    if (this.levelFrames >= this.levelEvery) {
      this.port.postMessage({ type: "level", peak: this.peak, clipped: this.clipped });
      this.peak = 0;
      this.clipped = 0;
      this.levelFrames = 0;
    }
    return true;
  }
}

registerProcessor("voicestudio-capture", CaptureProcessor);
