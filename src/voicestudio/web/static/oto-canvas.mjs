// The oto editor's picture: waveform over spectrogram with the five markers of one line, in UTAU's
// coordinates; a marker can be dragged with the mouse (or a finger) and reports the line's new values.

import { MARKERS, markerTimes, moveMarker } from "./oto-markers.mjs";
import { spectrogramImage } from "./spectrogram.mjs";

const STYLE = {
  offset: { color: "#9aa5b1", label: "offset" },
  consonant: { color: "#5b8def", label: "consonant" },
  preutterance: { color: "#e5484d", label: "preutterance" },
  overlap: { color: "#30a46c", label: "overlap" },
  cutoff: { color: "#9aa5b1", label: "cutoff" },
};
const GRAB_PX = 7; // how near the pointer must be to a marker to pick it up
const PICK_ORDER = ["preutterance", "overlap", "consonant", "offset", "cutoff"]; // ties go to the first

export class OtoCanvas {
  /** `onChange(values)` is called with the line's five values whenever a drag moves a marker. */
  constructor(canvas, onChange) {
    this.canvas = canvas;
    this.onChange = onChange;
    this.take = null;
    this.values = null;
    this.view = { startMs: 0, endMs: 1 };
    this.spectrogram = null; // {key, bitmap canvas}
    this.dragging = null;
    this.grabMs = 0;
    canvas.addEventListener("pointerdown", (event) => this.pointerDown(event));
    canvas.addEventListener("pointermove", (event) => this.pointerMove(event));
    canvas.addEventListener("pointerup", (event) => this.pointerUp(event));
    canvas.addEventListener("pointercancel", (event) => this.pointerUp(event));
    this.resizeObserver = new ResizeObserver(() => this.draw());
    this.resizeObserver.observe(canvas);
  }

  /** The take's audio: mono samples, their rate, and the file's length as the server measured it. */
  setTake(take) {
    let peak = 0;
    for (const x of take.samples) peak = Math.max(peak, Math.abs(x));
    this.take = { ...take, peak };
    this.spectrogram = null;
  }

  /** Show a line's values; `fit` re-frames the view around its region. */
  setValues(values, { fit = false } = {}) {
    this.values = values;
    if (fit) this.fit();
    this.draw();
  }

  /** Frame the region (offset or overlap, whichever is earlier, to the cutoff) with some room around it. */
  fit() {
    const duration = this.take.durationMs;
    const t = markerTimes(this.values, duration);
    const first = Math.min(t.offset, t.overlap, t.preutterance);
    const last = Math.max(t.cutoff, t.consonant, t.preutterance);
    const pad = Math.max(80, 0.15 * (last - first));
    this.view = { startMs: Math.max(0, first - pad), endMs: Math.min(duration, last + pad) };
    if (this.view.endMs - this.view.startMs < 50) this.view = { startMs: 0, endMs: duration };
    this.spectrogram = null;
  }

  /** Show the whole file. */
  showAll() {
    this.view = { startMs: 0, endMs: this.take.durationMs };
    this.spectrogram = null;
    this.draw();
  }

  get width() {
    return this.canvas.clientWidth || 800;
  }

  get height() {
    return this.canvas.clientHeight || 320;
  }

  msToX(ms) {
    return ((ms - this.view.startMs) / (this.view.endMs - this.view.startMs)) * this.width;
  }

  xToMs(x) {
    return this.view.startMs + (x / this.width) * (this.view.endMs - this.view.startMs);
  }

  spectrogramBitmap(width, height) {
    const key = `${width}x${height}:${this.view.startMs}-${this.view.endMs}`;
    if (this.spectrogram && this.spectrogram.key === key) return this.spectrogram.bitmap;
    const image = spectrogramImage(this.take.samples, this.take.sampleRateHz, this.view.startMs, this.view.endMs, width, height);
    const bitmap = document.createElement("canvas");
    bitmap.width = width;
    bitmap.height = height;
    bitmap.getContext("2d").putImageData(image, 0, 0);
    this.spectrogram = { key, bitmap };
    return bitmap;
  }

  draw() {
    if (!this.take || !this.values) return;
    const { width, height } = this;
    const ratio = window.devicePixelRatio || 1;
    if (this.canvas.width !== Math.round(width * ratio) || this.canvas.height !== Math.round(height * ratio)) {
      this.canvas.width = Math.round(width * ratio);
      this.canvas.height = Math.round(height * ratio);
    }
    const g = this.canvas.getContext("2d");
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    const waveHeight = Math.round(height * 0.5);
    const specHeight = height - waveHeight;
    g.fillStyle = "#111418";
    g.fillRect(0, 0, width, waveHeight);
    g.drawImage(this.spectrogramBitmap(Math.round(width), specHeight), 0, waveHeight, width, specHeight);
    this.drawWave(g, width, waveHeight);
    this.drawMarkers(g, width, height);
    this.publish();
  }

  drawWave(g, width, laneHeight) {
    const { samples, sampleRateHz } = this.take;
    const mid = laneHeight / 2;
    g.strokeStyle = "#2a3038";
    g.beginPath();
    g.moveTo(0, mid);
    g.lineTo(width, mid);
    g.stroke();
    g.fillStyle = "#7fb2e5";
    // Quiet takes are drawn larger (up to 20×), so their shape shows; the gain is written on the lane.
    const gain = Math.min(20, 0.9 / Math.max(1e-4, this.take.peak ?? 1));
    for (let x = 0; x < width; x += 1) {
      const from = Math.max(0, Math.floor((this.xToMs(x) / 1000) * sampleRateHz));
      const to = Math.min(samples.length, Math.max(from + 1, Math.floor((this.xToMs(x + 1) / 1000) * sampleRateHz)));
      let lo = 0;
      let hi = 0;
      for (let i = from; i < to; i += 1) {
        if (samples[i] < lo) lo = samples[i];
        if (samples[i] > hi) hi = samples[i];
      }
      g.fillRect(x, mid - hi * gain * mid, 1, Math.max(1, (hi - lo) * gain * mid));
    }
    if (gain > 1.05) {
      g.fillStyle = "#6b7480";
      g.fillText(`×${gain.toFixed(1)}`, width - 40, laneHeight - 6);
    }
  }

  drawMarkers(g, width, height) {
    const t = markerTimes(this.values, this.take.durationMs);
    const x = Object.fromEntries(MARKERS.map((m) => [m, this.msToX(t[m])]));
    // UTAU's shading: the blanks before the offset and after the cutoff, the fixed region after the offset.
    g.fillStyle = "rgba(20, 24, 30, 0.55)";
    g.fillRect(0, 0, Math.max(0, x.offset), height);
    g.fillRect(x.cutoff, 0, Math.max(0, width - x.cutoff), height);
    g.fillStyle = "rgba(91, 141, 239, 0.22)";
    g.fillRect(x.offset, 0, Math.max(0, x.consonant - x.offset), height);
    g.font = "11px system-ui, sans-serif";
    for (const [row, marker] of ["offset", "consonant", "cutoff", "overlap", "preutterance"].entries()) {
      const style = STYLE[marker];
      const active = this.dragging === marker;
      g.strokeStyle = style.color;
      g.lineWidth = active ? 3 : 2;
      g.beginPath();
      g.moveTo(x[marker], 0);
      g.lineTo(x[marker], height);
      g.stroke();
      g.fillStyle = style.color;
      g.fillText(style.label, Math.min(width - 70, Math.max(2, x[marker] + 3)), 12 + 13 * row);
    }
    g.lineWidth = 1;
  }

  /** Leave the mapping between pixels and ms on the element, for tests and tools that drive it. */
  publish() {
    const data = this.canvas.dataset;
    data.viewStartMs = this.view.startMs.toFixed(3);
    data.viewEndMs = this.view.endMs.toFixed(3);
    data.msPerPx = ((this.view.endMs - this.view.startMs) / this.width).toFixed(6);
    const t = markerTimes(this.values, this.take.durationMs);
    for (const marker of MARKERS) data[`${marker}X`] = this.msToX(t[marker]).toFixed(2);
  }

  localX(event) {
    return event.clientX - this.canvas.getBoundingClientRect().left;
  }

  pick(px) {
    if (!this.values) return null;
    const t = markerTimes(this.values, this.take.durationMs);
    let best = null;
    let bestDistance = GRAB_PX;
    for (const marker of PICK_ORDER) {
      const distance = Math.abs(this.msToX(t[marker]) - px);
      if (distance < bestDistance - 0.5) {
        best = marker;
        bestDistance = distance;
      }
    }
    return best;
  }

  pointerDown(event) {
    const marker = this.pick(this.localX(event));
    if (!marker) return;
    this.dragging = marker;
    // Keep the distance between the pointer and the marker, so a marker never jumps when picked up.
    this.grabMs = markerTimes(this.values, this.take.durationMs)[marker] - this.xToMs(this.localX(event));
    this.canvas.setPointerCapture(event.pointerId);
    this.canvas.dataset.dragging = marker;
    event.preventDefault();
    this.draw();
  }

  pointerMove(event) {
    const px = this.localX(event);
    if (!this.dragging) {
      this.canvas.style.cursor = this.pick(px) ? "ew-resize" : "default";
      return;
    }
    this.values = moveMarker(this.values, this.take.durationMs, this.dragging, this.xToMs(px) + this.grabMs);
    this.draw();
    this.onChange(this.values);
  }

  pointerUp(event) {
    if (!this.dragging) return;
    this.dragging = null;
    delete this.canvas.dataset.dragging;
    if (this.canvas.hasPointerCapture(event.pointerId)) this.canvas.releasePointerCapture(event.pointerId);
    this.draw();
  }
}
