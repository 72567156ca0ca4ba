// The training's losses over steps on a canvas: one line per loss, step and value labels on the axes,
// fed with each train job's detail ({step, losses, history}) as the WebSocket brings it.

import { h } from "./dom.mjs";

const COLORS = ["#3e63dd", "#e5484d", "#30a46c", "#f76b15", "#8e4ec6", "#12a594", "#d6409f", "#886349"];
const MARGIN = { left: 64, right: 16, top: 14, bottom: 38 };
const HEIGHT_PX = 280;

/** About `count` round tick values (1, 2 or 5 × 10^n apart) covering lo..hi. */
export function niceTicks(lo, hi, count = 5) {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const ticks = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

/** Round values (1, 2, 5 × 10^n) between 10^lo and 10^hi, as their logarithms, for a log axis. */
function logTicks(lo, hi) {
  const ticks = [];
  for (let n = Math.floor(lo); n <= Math.ceil(hi); n += 1) {
    for (const m of [1, 2, 5]) {
      const t = Math.log10(m * 10 ** n);
      if (t >= lo && t <= hi) ticks.push(t);
    }
  }
  return ticks.length >= 2 ? ticks : niceTicks(10 ** lo, 10 ** hi, 4).filter((v) => v > 0).map(Math.log10);
}

/** A tick label: no more digits than the tick spacing needs. */
function label(value, spacing) {
  if (value !== 0 && (Math.abs(value) >= 1e5 || Math.abs(value) < 1e-3)) return value.toExponential(1);
  const decimals = Math.max(0, Math.min(4, -Math.floor(Math.log10(spacing || 1))));
  return value.toFixed(decimals);
}

/**
 * A <div> holding the chart, its legend and a log-scale switch; `add(detail)` merges a train job's detail
 * (its history and its latest step) and redraws. `testid` names it for tests; its data-points-per-loss says
 * how many points the fewest-drawn loss has.
 */
export function lossChart(testid) {
  const canvas = h("canvas", { class: "loss-canvas", "data-testid": `${testid}-canvas` });
  const legend = h("div", { class: "loss-legend", "data-testid": `${testid}-legend` });
  const logScale = h("input", { type: "checkbox", "data-testid": `${testid}-log` });
  const empty = h("p", { class: "muted", "data-testid": `${testid}-empty` },
    "The losses appear here after the first steps.");
  const box = h("div", { class: "loss-chart", "data-testid": testid, "data-points-per-loss": "0", "data-steps": "0" },
    h("div", { class: "loss-head" }, h("strong", {}, "Losses"), legend,
      h("label", { class: "check loss-log" }, logScale, " log scale")),
    empty, canvas);
  const byStep = new Map(); // step → {name: value}
  const colorOf = new Map(); // loss name → color, in order of first appearance
  let scaleChosen = false; // by the user, or once from the first losses

  function merge(step, losses) {
    if (!Number.isFinite(step) || !losses) return;
    const row = byStep.get(step) ?? {};
    for (const [name, value] of Object.entries(losses)) {
      if (!Number.isFinite(value)) continue;
      row[name] = value;
      if (!colorOf.has(name)) colorOf.set(name, COLORS[colorOf.size % COLORS.length]);
    }
    byStep.set(step, row);
  }

  /** Every loss as a list of [step, value], steps ascending. */
  function series() {
    const steps = [...byStep.keys()].sort((a, b) => a - b);
    const lines = new Map([...colorOf.keys()].map((name) => [name, []]));
    for (const step of steps) {
      for (const [name, value] of Object.entries(byStep.get(step))) lines.get(name).push([step, value]);
    }
    return lines;
  }

  function draw() {
    const lines = series();
    const firstValues = [...lines.values()].map((points) => points[0]?.[1]).filter(Number.isFinite);
    if (!scaleChosen && firstValues.length > 0) {
      // losses ten times apart or more would flatten the small ones on a linear axis
      scaleChosen = true;
      logScale.checked = Math.min(...firstValues) > 0 && Math.max(...firstValues) / Math.min(...firstValues) > 10;
    }
    const log = logScale.checked;
    const shown = new Map([...lines].map(([name, points]) => [name, log ? points.filter(([, v]) => v > 0) : points]));
    const all = [...shown.values()].flat();
    const counts = [...lines.values()].map((points) => points.length);
    box.dataset.pointsPerLoss = String(counts.length ? Math.min(...counts) : 0);
    box.dataset.steps = String(byStep.size);
    box.dataset.losses = [...lines.keys()].join(",");
    legend.replaceChildren(...[...lines.keys()].map((name) =>
      h("span", { class: "loss-key", "data-loss": name },
        h("span", { class: "swatch", style: `background:${colorOf.get(name)}` }), ` ${name}`)));
    empty.hidden = all.length > 0;

    const width = canvas.clientWidth || 720;
    const ratio = window.devicePixelRatio || 1;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(HEIGHT_PX * ratio);
    const g = canvas.getContext("2d");
    g.scale(ratio, ratio);
    g.clearRect(0, 0, width, HEIGHT_PX);
    if (all.length === 0) return;

    const steps = all.map(([s]) => s);
    const values = all.map(([, v]) => (log ? Math.log10(v) : v));
    let [x0, x1] = [Math.min(...steps), Math.max(...steps)];
    let [y0, y1] = [Math.min(...values), Math.max(...values)];
    if (x1 === x0) [x0, x1] = [x0 - 1, x1 + 1];
    const pad = y1 > y0 ? 0.05 * (y1 - y0) : Math.max(0.5, Math.abs(y0) * 0.1);
    [y0, y1] = [y0 - pad, y1 + pad];
    const plotW = width - MARGIN.left - MARGIN.right;
    const plotH = HEIGHT_PX - MARGIN.top - MARGIN.bottom;
    const px = (s) => MARGIN.left + ((s - x0) / (x1 - x0)) * plotW;
    const py = (v) => MARGIN.top + (1 - ((log ? Math.log10(v) : v) - y0) / (y1 - y0)) * plotH;

    const style = getComputedStyle(box);
    const ink = style.color || "#222";
    g.font = "11px system-ui, sans-serif";
    g.strokeStyle = "rgba(128, 128, 128, 0.35)";
    g.fillStyle = ink;
    g.lineWidth = 1;
    const xTicks = niceTicks(x0, x1, 6).filter((t) => Number.isInteger(t));
    g.textAlign = "center";
    g.textBaseline = "top";
    for (const t of xTicks) {
      g.beginPath();
      g.moveTo(px(t), MARGIN.top);
      g.lineTo(px(t), MARGIN.top + plotH);
      g.stroke();
      g.fillText(String(t), px(t), MARGIN.top + plotH + 4);
    }
    g.fillText("step", MARGIN.left + plotW / 2, MARGIN.top + plotH + 20);
    const yTicks = log ? logTicks(y0, y1) : niceTicks(y0, y1, 5);
    const ySpacing = yTicks.length > 1 ? yTicks[1] - yTicks[0] : 1;
    g.textAlign = "right";
    g.textBaseline = "middle";
    for (const t of yTicks) {
      const y = MARGIN.top + (1 - (t - y0) / (y1 - y0)) * plotH;
      g.beginPath();
      g.moveTo(MARGIN.left, y);
      g.lineTo(MARGIN.left + plotW, y);
      g.stroke();
      g.fillText(log ? label(10 ** t, 10 ** Math.floor(t + 1e-9)) : label(t, ySpacing), MARGIN.left - 6, y);
    }
    g.strokeStyle = ink;
    g.beginPath();
    g.moveTo(MARGIN.left, MARGIN.top);
    g.lineTo(MARGIN.left, MARGIN.top + plotH);
    g.lineTo(MARGIN.left + plotW, MARGIN.top + plotH);
    g.stroke();

    g.lineWidth = 2;
    for (const [name, points] of shown) {
      g.strokeStyle = g.fillStyle = colorOf.get(name);
      g.beginPath();
      points.forEach(([s, v], i) => (i === 0 ? g.moveTo(px(s), py(v)) : g.lineTo(px(s), py(v))));
      g.stroke();
      if (points.length < 40) {
        for (const [s, v] of points) g.fillRect(px(s) - 2, py(v) - 2, 4, 4); // few points: each one shows
      }
    }
  }

  box.add = (detail) => {
    if (!detail) return;
    for (const point of detail.history ?? []) merge(point.step, point.losses);
    merge(detail.step, detail.losses);
    draw();
  };
  box.redraw = draw;
  logScale.addEventListener("change", () => {
    scaleChosen = true;
    draw();
  });
  return box;
}
