// Text → piper phoneme ids in the browser, as piper's espeak phonemizer makes them on the server:
// espeak-ng IPA per clause (espeak-ng compiled to WASM, served from /static/vendor), "(lang)" switch flags
// dropped, the clause's punctuation kept (", : ;" followed by a space), NFD code points as phonemes,
// one list per sentence; ids are ^ _ (phoneme _)* $ from the voice's phoneme_id_map.
// Voices of any other phoneme type (Japanese: OpenJTalk with pitch-accent marks) get their phonemes and ids
// from the studio server (POST /api/phonemize), which runs piper's own phonemizer for the model.

import { ApiError, json } from "./api.mjs";

export const BOS = "^";
export const EOS = "$";
export const PAD = "_";

const ESPEAK_DIR = new URL("./vendor/espeak-ng/", import.meta.url);
const CLAUSE_SEPARATOR = " | "; // how the WASM build joins the clauses of one text
const PHONEME_SEPARATOR = /_/g; // the WASM build separates phonemes with "_"; piper's bridge uses none
const LINKING_GLIDE = "ʲ";
const LANGUAGE_FLAGS = /\([^)]+\)/g; // "(fr)…(en)" around words espeak reads in another language
const RAW_PHONEMES = /(\[\[.*?\]\])/; // [[ phonemes ]] written by hand pass through unchanged
const CLOSERS = new Set(['"', "'", "”", "’", ")", "]", "}", "»"]);
const CLAUSE_PUNCTUATION = new Set([".", "?", "!", ",", ":", ";", "…", "—"]);

const PIPER_DATA = new URL("piper-data/", ESPEAK_DIR); // piper's phoneme tables and dictionaries
const DATA_PATH = "/usr/share/espeak-ng-data/"; // where the WASM build reads its data
const CORE_FILES = ["phontab", "phonindex", "phondata", "intonations"];

let espeakModule = null; // one espeak-ng per page: it is a global C library inside

async function fetchBytes(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url} answered ${response.status}; run scripts/vendor-web on the server.`);
  return new Uint8Array(await response.arrayBuffer());
}

/** Load espeak-ng (WASM) from the studio once per page, with piper's phoneme tables in place of its own. */
export async function loadEspeak() {
  if (!espeakModule) {
    espeakModule = (async () => {
      const { default: createEspeak } = await import(new URL("espeak-ng.js", ESPEAK_DIR).href);
      const module = await createEspeak({ locateFile: (name) => new URL(name, ESPEAK_DIR).href });
      const tables = await Promise.all(CORE_FILES.map((name) => fetchBytes(new URL(name, PIPER_DATA))));
      CORE_FILES.forEach((name, index) => module.FS.writeFile(DATA_PATH + name, tables[index]));
      return new EspeakPhonemizer(module);
    })();
    espeakModule.catch(() => {
      espeakModule = null;
    });
  }
  return espeakModule;
}

/** How espeak-ng ended each clause it will find in `text`: [{terminator, endOfSentence}], in order.
 * espeak does not tell its WASM callers, so this follows its rules for the common cases: . ? ! , : ;
 * followed (after closing quotes or brackets) by a space or the end; "." before a lower-case word is an
 * abbreviation; "..." / "…" ends a clause without a terminator; "—" acts as ";". */
export function clauseEnds(text) {
  const ends = [];
  let i = 0;
  while (i < text.length) {
    if (!CLAUSE_PUNCTUATION.has(text[i])) {
      i += 1;
      continue;
    }
    let runEnd = i;
    while (runEnd < text.length && CLAUSE_PUNCTUATION.has(text[runEnd])) runEnd += 1;
    const run = text.slice(i, runEnd);
    let after = runEnd;
    while (after < text.length && CLOSERS.has(text[after])) after += 1;
    const next = text[after];
    i = runEnd;
    if (next !== undefined && !/\s/u.test(next)) continue;
    const following = text.slice(after).trimStart()[0];
    if (run[0] === "." && run.length === 1 && following !== undefined && /\p{Ll}/u.test(following)) continue;
    if (run.includes("…") || /^\.{2,}$/.test(run)) ends.push({ terminator: "", endOfSentence: false });
    else if (run[0] === "—") ends.push({ terminator: ";", endOfSentence: false });
    else ends.push({ terminator: run[0], endOfSentence: ".?!".includes(run[0]) });
  }
  return ends;
}

/** One clause's IPA without separators, where espeak's ";" (the glide linking "iː" to a vowel, which
 * this WASM build writes as nothing) becomes "ʲ" as piper's espeak-ng writes it. */
export function withLinkingGlides(ipaClause, asciiClause) {
  const ipaWords = ipaClause.split(" ");
  const asciiWords = (asciiClause ?? "").split(" ");
  if (ipaWords.length !== asciiWords.length) return ipaClause.replace(PHONEME_SEPARATOR, "");
  return ipaWords
    .map((word, index) => {
      // Aligned from the word's end: pauses before a word ("_:" after a quote) split differently.
      const ipa = word.split("_");
      const ascii = asciiWords[index].split("_");
      const shift = ascii.length - ipa.length;
      return ipa
        .map((phoneme, at) => (phoneme === "" && ascii[at + shift] === ";" ? LINKING_GLIDE : phoneme))
        .join("");
    })
    .join(" ");
}

/** Merge runs of phonemes that the voice's config lists as one vowel ("a","ɪ" → "aɪ"). */
export function mergeVowelClusters(phonemes, clusters) {
  if (!clusters || clusters.length === 0) return phonemes;
  const known = new Set(clusters.map((cluster) => cluster.join("\u0000")));
  const longest = Math.max(...clusters.map((cluster) => cluster.length));
  const merged = [];
  let i = 0;
  while (i < phonemes.length) {
    let taken = 1;
    for (let n = Math.min(longest, phonemes.length - i); n > 1; n -= 1) {
      if (known.has(phonemes.slice(i, i + n).join("\u0000"))) {
        taken = n;
        break;
      }
    }
    merged.push(taken > 1 ? phonemes.slice(i, i + taken).join("") : phonemes[i]);
    i += taken;
  }
  return merged;
}

/** Whether this page phonemizes a voice itself: its config's phoneme_type is "espeak" (piper's default). */
export function phonemizesInBrowser(config) {
  return (config.phoneme_type ?? "espeak") === "espeak";
}

/** Text → [{phonemes, ids}] per sentence from the studio server, by piper's phonemizer for model `modelId`. */
export async function serverPhonemeIds(modelId, text) {
  let body;
  try {
    body = await json("/api/phonemize", { method: "POST", body: { text, model_id: modelId } });
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 0) throw error;
    throw new ApiError(`This voice gets its phonemes from the studio server. ${error.message}`, 0);
  }
  return body.phonemes.map((phonemes, index) => ({ phonemes, ids: body.phoneme_ids[index] }));
}

/** Phonemes → ids: BOS, PAD, then each known phoneme followed by PAD, then EOS (unknown ones skipped). */
export function phonemeIds(phonemes, idMap) {
  const ids = [...idMap[BOS], ...idMap[PAD]];
  for (const phoneme of phonemes) {
    const mapped = idMap[phoneme];
    if (!mapped) continue;
    ids.push(...mapped, ...idMap[PAD]);
  }
  ids.push(...idMap[EOS]);
  return ids;
}

/** espeak-ng in the page, phonemizing like piper's espeak bridge. */
export class EspeakPhonemizer {
  constructor(module) {
    this.module = module;
    this.worker = new module.eSpeakNGWorker();
    this.voice = null;
    this.dictionaries = new Set();
  }

  /** Put piper's dictionary for `voice` ("en-us" → en_dict) in place, once, before phonemizing with it. */
  async useVoice(voice) {
    const name = `${voice.split("-")[0]}_dict`;
    if (this.dictionaries.has(name)) return;
    this.module.FS.writeFile(DATA_PATH + name, await fetchBytes(new URL(name, PIPER_DATA)));
    this.dictionaries.add(name);
    this.voice = null; // espeak reads the dictionary again when the voice is set
  }

  /** espeak's IPA for each clause of `text`, as the WASM build returns them. */
  clauses(voice, text) {
    if (this.voice !== voice) {
      if (this.worker.set_voice(voice) !== 0) throw new Error(`espeak-ng has no voice "${voice}".`);
      this.voice = voice;
    }
    const ipa = this.read(this.worker.text_to_phonemes(text, 1).ptr).split(CLAUSE_SEPARATOR);
    const ascii = this.read(this.worker.text_to_phonemes(text, 0).ptr).split(CLAUSE_SEPARATOR);
    return ipa.map((clause, index) => withLinkingGlides(clause, ascii[index]));
  }

  read(pointer) {
    const heap = this.module.HEAPU8;
    let end = pointer;
    while (heap[end] !== 0) end += 1;
    const text = new TextDecoder().decode(heap.slice(pointer, end));
    this.module._free(pointer);
    return text;
  }

  /** Phonemes of plain text (no [[ ]] blocks) grouped by sentence, as piper's EspeakPhonemizer does. */
  phonemizePlain(voice, text, vowelClusters) {
    const clauses = this.clauses(voice, text);
    const ends = clauseEnds(text);
    const sentences = [];
    let sentence = [];
    clauses.forEach((clause, index) => {
      const end = ends[index] ?? { terminator: "", endOfSentence: index === clauses.length - 1 };
      let phonemes = clause.replace(LANGUAGE_FLAGS, "") + end.terminator;
      if (",:;".includes(end.terminator) && end.terminator) phonemes += " ";
      sentence.push(...phonemes.normalize("NFD"));
      if (end.endOfSentence) {
        sentences.push(mergeVowelClusters(sentence, vowelClusters));
        sentence = [];
      }
    });
    if (sentence.length > 0) sentences.push(mergeVowelClusters(sentence, vowelClusters));
    return sentences;
  }

  /** Text → phonemes grouped by sentence, with [[ raw phonemes ]] blocks kept as written. */
  phonemize(voice, text, vowelClusters = null) {
    const parts = text.split(RAW_PHONEMES);
    const sentences = [];
    let afterRaw = false;
    parts.forEach((part, index) => {
      if (part.startsWith("[[")) {
        if (sentences.length === 0) sentences.push([]);
        const current = sentences[sentences.length - 1];
        if (index > 0 && parts[index - 1].endsWith(" ")) current.push(" ");
        current.push(...part.slice(2, -2).trim());
        if (index < parts.length - 1 && parts[index + 1].startsWith(" ")) current.push(" ");
        afterRaw = true;
        return;
      }
      let found = this.phonemizePlain(voice, part, vowelClusters);
      if (afterRaw && found.length > 0) {
        sentences[sentences.length - 1].push(...found[0]);
        found = found.slice(1);
      }
      sentences.push(...found);
      afterRaw = false;
    });
    if (sentences.length > 0 && sentences[sentences.length - 1].length === 0) sentences.pop();
    return sentences;
  }

  /** Text → [{phonemes, ids}] per sentence for a piper voice config (phoneme_type "espeak"). */
  phonemeIdsFor(config, text) {
    const type = config.phoneme_type ?? "espeak";
    if (type !== "espeak") {
      throw new Error(`This voice uses "${type}" phonemes; the browser phonemizes espeak voices only.`);
    }
    const sentences = this.phonemize(config.espeak.voice, text, config.vowel_clusters ?? null);
    return sentences
      .filter((phonemes) => phonemes.length > 0)
      .map((phonemes) => ({ phonemes, ids: phonemeIds(phonemes, config.phoneme_id_map) }));
  }
}
