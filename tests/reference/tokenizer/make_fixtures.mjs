// Writes the tokenizer fixtures (tests/data/tokenizer/) from independent
// implementations, never from tinygptv itself:
//
//   cases.json            text -> expected ids for every string of cases.mjs
//   decode_cases.json     ids -> expected bytes (hex), random ids including added ones
//   unicode15_classes.txt the \p{L} / \p{N} ranges of Unicode 15.0 from the npm
//                         package @unicode/unicode-15.0.0 (a second source besides
//                         Debian's UnicodeData.txt that gen_unicode_tables.py reads)
//
// Expected ids: js-tiktoken's BPE engine with GPT-2's ranks (r50k_base), plus the
// added-token rule of model.md section 6 applied here: split the text on the 38
// whitespace runs and <|endoftext|> (leftmost, longest match) and encode each piece
// between them on its own.
//
// The pre-tokenizer pattern: js-tiktoken runs GPT-2's pattern on JavaScript's RegExp,
// whose \s is not Unicode White_Space (it has U+FEFF, lacks U+0085) and whose \p{L},
// \p{N} follow node's Unicode version (17.0 here), not 15.0. The spec wins, so the
// pattern is given to the same engine with its classes spelt out from Unicode 15.0
// data (@unicode/unicode-15.0.0: Letter, Number, White_Space). Cases where that
// changes the ids are marked "stock_differs" and listed when this script runs.
//
// Cross-check: every piece is also encoded with gpt-3-encoder (the merges-based GPT-2
// bpe() that the slow Hugging Face tokenizer also implements); this script stops if
// it disagrees with js-tiktoken's rank-based BPE anywhere the patterns agree.
//
//   node tests/reference/tokenizer/make_fixtures.mjs OUT_DIR
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { Tiktoken } from "js-tiktoken/lite";
import r50k from "js-tiktoken/ranks/r50k_base";
import letters from "@unicode/unicode-15.0.0/General_Category/Letter/code-points.mjs";
import numbers from "@unicode/unicode-15.0.0/General_Category/Number/code-points.mjs";
import whiteSpace from "@unicode/unicode-15.0.0/Binary_Property/White_Space/code-points.mjs";
import { allCases } from "./cases.mjs";

const require = createRequire(import.meta.url);
const gpt3 = require("gpt-3-encoder");

const outDir = process.argv[2];
if (!outDir) throw new Error("usage: node make_fixtures.mjs OUT_DIR");

// ---- Unicode 15.0 classes as RegExp character-class bodies --------------------
function ranges(codePoints) {
  const cps = [...codePoints].sort((a, b) => a - b);
  const out = [];
  for (const cp of cps) {
    if (out.length && out[out.length - 1][1] === cp - 1) out[out.length - 1][1] = cp;
    else out.push([cp, cp]);
  }
  return out;
}
const hex = (cp) => cp.toString(16).toUpperCase().padStart(4, "0");
const classBody = (rs) => rs.map(([a, b]) => (a === b ? `\\u{${hex(a)}}` : `\\u{${hex(a)}}-\\u{${hex(b)}}`)).join("");

if (whiteSpace.length !== 25) throw new Error(`White_Space has ${whiteSpace.length} code points, expected 25`);
const L = classBody(ranges(letters));
const N = classBody(ranges(numbers));
const W = classBody(ranges(whiteSpace));
const specPattern =
  `'s|'t|'re|'ve|'m|'ll|'d| ?[${L}]+| ?[${N}]+| ?[^${W}${L}${N}]+|[${W}]+(?![^${W}])|[${W}]+`;

const stock = new Tiktoken(r50k);
const spec = new Tiktoken({ ...r50k, pat_str: specPattern });

// ---- The added-token rule (model.md section 6) ---------------------------------
const VOCAB = 50257;
const added = new Map([["<|endoftext|>", 50256]]);
for (let k = 31; k >= 2; k--) added.set(" ".repeat(k), VOCAB + 31 - k);        // 50257..50286
for (let k = 9; k >= 2; k--) added.set("\t".repeat(k), VOCAB + 30 + 9 - k);     // 50287..50294
const addedByLength = [...added.keys()].sort((a, b) => b.length - a.length);

// [{text, id}] with id = -1 for ordinary text: leftmost position first, then the
// longest added token that starts there.
function splitAdded(text) {
  const parts = [];
  let plain = 0;
  for (let i = 0; i < text.length;) {
    const t = addedByLength.find((a) => text.startsWith(a, i));
    if (!t) { i++; continue; }
    if (plain < i) parts.push({ text: text.slice(plain, i), id: -1 });
    parts.push({ text: t, id: added.get(t) });
    i += t.length;
    plain = i;
  }
  if (plain < text.length) parts.push({ text: text.slice(plain), id: -1 });
  return parts;
}

function encodeWith(encodePiece, text) {
  const ids = [];
  for (const p of splitAdded(text)) {
    if (p.id >= 0) ids.push(p.id);
    else ids.push(...encodePiece(p.text));
  }
  return ids;
}
const encodeSpec = (t) => encodeWith((p) => spec.encode(p, [], []), t);
const encodeStock = (t) => encodeWith((p) => stock.encode(p, [], []), t);
const encodeGpt3 = (t) => encodeWith((p) => gpt3.encode(p), t);

// ---- Decoding reference: token bytes straight from the rank table ---------------
const tokenBytes = (id) => {
  for (const [text, aid] of added) if (aid === id) return Buffer.from(text, "utf8");
  return Buffer.from(stock.textMap.get(id));
};

// ---- Cases ----------------------------------------------------------------------
const cases = [];
const stockDiffers = [];
let bpeMismatch = 0;
for (const { kind, text } of allCases()) {
  const ids = encodeSpec(text);
  const st = encodeStock(text);
  const differs = JSON.stringify(st) !== JSON.stringify(ids);
  if (differs) stockDiffers.push({ kind, text });
  // Where the stock pattern agrees with the spec, the merges-based BPE must agree too.
  if (!differs) {
    const g = encodeGpt3(text);
    if (JSON.stringify(g) !== JSON.stringify(ids)) {
      bpeMismatch++;
      console.error(`gpt-3-encoder disagrees on ${JSON.stringify(text).slice(0, 80)}:\n  tiktoken ${ids}\n  gpt3     ${g}`);
    }
  }
  // Round trip through the reference's own token bytes.
  const back = Buffer.concat(ids.map(tokenBytes)).toString("utf8");
  if (back !== text) throw new Error(`reference round trip failed for ${JSON.stringify(text).slice(0, 80)}`);
  const c = { kind, text, ids };
  if (differs) c.stock_differs = true;
  cases.push(c);
}
if (bpeMismatch) throw new Error(`${bpeMismatch} cases where js-tiktoken and gpt-3-encoder disagree`);

// ---- Decode cases: random ids (vocabulary and added), bytes in hex ----------------
let seed = 7;
const rand = (n) => { seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0; return seed % n; };
const decodeCases = [];
for (let k = 0; k < 40; k++) {
  const ids = [];
  const len = 1 + rand(12);
  for (let i = 0; i < len; i++) ids.push(rand(4) === 0 ? 50256 + rand(39) : rand(50257));
  decodeCases.push({ ids, hex: Buffer.concat(ids.map(tokenBytes)).toString("hex") });
}

fs.mkdirSync(outDir, { recursive: true });
const header = {
  generator: "tests/reference/make_tokenizer.sh (tests/reference/tokenizer/make_fixtures.mjs)",
  reference: "js-tiktoken 1.0.21 r50k_base ranks; pattern classes from @unicode/unicode-15.0.0 2.0.7; " +
    "added-token split of model.md section 6; cross-checked with gpt-3-encoder 1.1.4",
};
const lines = cases.map((c) => "  " + JSON.stringify(c));
fs.writeFileSync(path.join(outDir, "cases.json"),
  `{"meta": ${JSON.stringify(header)},\n "cases": [\n${lines.join(",\n")}\n]}\n`);
fs.writeFileSync(path.join(outDir, "decode_cases.json"),
  `{"meta": ${JSON.stringify(header)},\n "cases": [\n${decodeCases.map((c) => "  " + JSON.stringify(c)).join(",\n")}\n]}\n`);

const classLines = [
  "# Unicode 15.0 classes of the GPT-2 pattern, from @unicode/unicode-15.0.0 (npm):",
  "# L = General_Category Letter, N = Number, W = White_Space. FIRST LAST in hex, inclusive.",
  ...ranges(letters).map(([a, b]) => `L ${hex(a)} ${hex(b)}`),
  ...ranges(numbers).map(([a, b]) => `N ${hex(a)} ${hex(b)}`),
  ...ranges(whiteSpace).map(([a, b]) => `W ${hex(a)} ${hex(b)}`),
];
fs.writeFileSync(path.join(outDir, "unicode15_classes.txt"), classLines.join("\n") + "\n");

console.log(`${cases.length} cases, ${decodeCases.length} decode cases written to ${outDir}`);
console.log(`${stockDiffers.length} cases where stock js-tiktoken (JS \\s, node's Unicode) differs from the spec pattern:`);
for (const d of stockDiffers) console.log(`  [${d.kind}] ${JSON.stringify(d.text)}`);
