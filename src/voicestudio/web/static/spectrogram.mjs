// A spectrogram computed in the browser (Hann window, radix-2 FFT), one column per canvas pixel.

/** In-place radix-2 FFT of (re, im); the length must be a power of two. */
export function fft(re, im) {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i += 1) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j], re[i]];
      [im[i], im[j]] = [im[j], im[i]];
    }
  }
  for (let size = 2; size <= n; size <<= 1) {
    const angle = (-2 * Math.PI) / size;
    for (let start = 0; start < n; start += size) {
      for (let k = 0; k < size / 2; k += 1) {
        const wr = Math.cos(angle * k);
        const wi = Math.sin(angle * k);
        const a = start + k;
        const b = a + size / 2;
        const tr = re[b] * wr - im[b] * wi;
        const ti = re[b] * wi + im[b] * wr;
        re[b] = re[a] - tr;
        im[b] = im[a] - ti;
        re[a] += tr;
        im[a] += ti;
      }
    }
  }
}

/** Dark blue → purple → orange → pale yellow, for 0..1. */
function color(v) {
  const stops = [[0, 0, 4], [40, 11, 84], [135, 33, 107], [221, 81, 58], [252, 165, 10], [252, 255, 164]];
  const x = Math.max(0, Math.min(1, v)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  return stops[i].map((c, k) => Math.round(c + f * (stops[i + 1][k] - c)));
}

/**
 * ImageData (width × height) of the magnitude in dB from `startMs` to `endMs` of `samples`, frequencies
 * 0..maxHz bottom to top, -100..-20 dBFS mapped onto the colour scale.
 */
export function spectrogramImage(samples, sampleRateHz, startMs, endMs, width, height, maxHz = 11000) {
  const size = sampleRateHz > 32000 ? 1024 : 512;
  const window = new Float32Array(size).map((_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (size - 1)));
  const norm = window.reduce((a, b) => a + b, 0) / 2;
  const bins = Math.min(size / 2, Math.ceil((maxHz / sampleRateHz) * size));
  const image = new ImageData(width, height);
  const re = new Float32Array(size);
  const im = new Float32Array(size);
  const column = new Float32Array(bins);
  for (let x = 0; x < width; x += 1) {
    const centre = Math.round((((startMs + ((x + 0.5) / width) * (endMs - startMs)) / 1000) * sampleRateHz));
    for (let i = 0; i < size; i += 1) {
      const at = centre - size / 2 + i;
      re[i] = at >= 0 && at < samples.length ? samples[at] * window[i] : 0;
      im[i] = 0;
    }
    fft(re, im);
    for (let k = 0; k < bins; k += 1) {
      const magnitude = Math.hypot(re[k], im[k]) / norm;
      column[k] = 20 * Math.log10(magnitude + 1e-9);
    }
    for (let y = 0; y < height; y += 1) {
      const k = Math.min(bins - 1, Math.floor(((height - 1 - y) / height) * bins));
      const [r, g, b] = color((column[k] + 100) / 80);
      const p = 4 * (y * width + x);
      image.data[p] = r;
      image.data[p + 1] = g;
      image.data[p + 2] = b;
      image.data[p + 3] = 255;
    }
  }
  return image;
}
