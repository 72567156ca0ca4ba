// UTAU's oto coordinates ↔ times in the file. Offset is measured from the file's start; consonant,
// preutterance and overlap from the offset; a negative cutoff is a length from the offset, a positive
// (or zero) one a distance back from the file's end.

/** The five values in the order an oto.ini line writes them. */
export const MARKERS = ["offset", "consonant", "cutoff", "preutterance", "overlap"];

export const MARKER_LABELS = {
  offset: "offset",
  consonant: "consonant (fixed end)",
  preutterance: "preutterance",
  overlap: "overlap",
  cutoff: "cutoff",
};

/** Where each marker sits in the file (ms from its start), for a line and the file's length. */
export function markerTimes(line, durationMs) {
  const offset = line.offset_ms;
  return {
    offset,
    consonant: offset + line.consonant_ms,
    preutterance: offset + line.preutterance_ms,
    overlap: offset + line.overlap_ms,
    cutoff: line.cutoff_ms < 0 ? offset - line.cutoff_ms : durationMs - line.cutoff_ms,
  };
}

/** The playable region of a line: offset → cutoff end, in ms from the file's start. */
export function regionMs(line, durationMs) {
  const times = markerTimes(line, durationMs);
  return { startMs: times.offset, endMs: times.cutoff };
}

const round1 = (x) => Math.round(x * 10) / 10;

/**
 * The line's five values after one marker moved to `timeMs` (ms from the file's start). Moving the
 * offset keeps every other marker where it is in the file; the cutoff keeps its sign convention.
 */
export function moveMarker(line, durationMs, marker, timeMs) {
  const t = Math.max(0, Math.min(durationMs, timeMs));
  const times = { ...markerTimes(line, durationMs), [marker]: t };
  const offset = times.offset;
  const cutoff = line.cutoff_ms < 0 ? -(times.cutoff - offset) : durationMs - times.cutoff;
  return {
    offset_ms: round1(offset),
    consonant_ms: round1(times.consonant - offset),
    cutoff_ms: round1(cutoff),
    preutterance_ms: round1(times.preutterance - offset),
    overlap_ms: round1(times.overlap - offset),
  };
}

/** The five values the API stores (PUT body) of a line. */
export function lineValues(line) {
  return {
    offset_ms: line.offset_ms,
    consonant_ms: line.consonant_ms,
    cutoff_ms: line.cutoff_ms,
    preutterance_ms: line.preutterance_ms,
    overlap_ms: line.overlap_ms,
  };
}
