// The strings of the tokenizer fixture (tests/data/tokenizer/cases.json), by kind.
// Every string is valid UTF-8 text; invalid input is tested by hand in
// tests/tokenizer/test_encode.cpp. Deterministic: no clock, no Math.random.

// A small deterministic generator (LCG), so the fixture is the same on every run.
function rng(seed) {
  let s = seed >>> 0;
  return (n) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
}

const prose = [
  "Hello world",
  "Hello, world! How are you today?",
  "The quick brown fox jumps over the lazy dog.",
  "A man, a plan, a canal: Panama.",
  "It was the best of times, it was the worst of times, it was the age of wisdom.",
  "She said, \"I'll be there at 5 o'clock.\"",
  "They're sure we've seen what you'd call a 'perfect' storm.",
  "Mr. O'Neil paid $1,234.56 for 3.5 kg of apples (about 7.7 lb) on 2023-11-27.",
  "e.g. i.e. etc. vs. Dr. Smith's lab",
  "What is in this image?",
  "Describe the image in detail.",
  "The image shows a brown dog running across a green field under a blue sky.",
  "A photo of two cats sleeping on a red sofa next to a window.",
  "Is there a person in the picture? Answer yes or no.",
  "   leading spaces",
  "trailing spaces   ",
  "double  space  between  words",
  "new\nline",
  "paragraph one.\n\nparagraph two.",
  "tab\tseparated\tvalues",
  "ALL CAPS SENTENCE WITH NUMBERS 123",
  "mIxEd CaSe WoRdS",
  "hyphen-ated words and em—dashes – and en dashes",
  "ellipsis... and more…",
  "question?! exclamation!!! (parentheses) [brackets] {braces}",
  "email: someone@example.com, url: https://example.org/path?q=1&r=2#frag",
  "#hashtag @mention $TICKER 100% 3/4 a+b=c",
  "Supercalifragilisticexpialidocious antidisestablishmentarianism",
  "café naïve résumé coöperate façade",
  "The Ġ character and the Ċ character are GPT-2's space and newline symbols.",
  "Pneumonoultramicroscopicsilicovolcanoconiosis is a long word.",
  " The",
  "the",
  "The",
  " the",
];

// TinyGPT-V / MiniGPT-4 / MiniGPT-v2 prompt formats (model.md section 7).
const system = "Give the following image: <Img>ImageContent</Img>. You will be able to see the image once I provide it to you. Please answer my questions.";
const prompts = [
  system,
  `${system}###Human: <Img><ImageHere></Img> What is in this image?###Assistant: `,
  "###Human: <Img><ImageHere></Img> Describe this image in detail.###Assistant: ",
  "###Human: <Img><ImageHere></Img> What is the color of the car?###Assistant: The car is red.###Human: Where is it parked?###Assistant: ",
  "<Img><ImageHere></Img>",
  "<ImageHere>",
  " What is in this image?###Assistant: ",
  "###Human: <Img>",
  "</Img> What is the man holding?###Assistant: ",
  "###",
  "Assistant: ",
  "Human: ",
  "<s>[INST] <Img><ImageHere></Img> [vqa] What is the man holding? [/INST]",
  "<s>[INST] <Img><ImageHere></Img> [caption] Briefly describe this image. [/INST]",
  "<s>[INST] <Img><ImageHere></Img> [refer] the dog on the left [/INST]",
  "<s>[INST] <Img><ImageHere></Img> [grounding] describe this image in detail [/INST]",
  "<s>[INST] <Img><ImageHere></Img> [detection] dog [/INST]",
  "<s>[INST] <Img><ImageHere></Img> [identify] what is this {<12><30><55><90>} [/INST]",
  "<s>[INST] ",
  " [/INST]",
  "<p>a dog</p>{<12><30><55><90>}",
  "<p>a dog</p>{<12><30><55><90>}<delim>{<60><25><98><88>}",
  "<p>two cats</p>{<0><0><100><100>}<delim>{<5><7><49><51>} sleeping on <p>a red sofa</p>{<1><40><99><97>}",
  "{<0><0><0><0>}",
  "<delim>",
  "[vqa] [caption] [refer] [grounding] [detection] [identify]",
  "The answer is<|endoftext|>",
  "###Human: <Img><ImageHere></Img> 这张图片里有什么？###Assistant: ",
];

// Code: space and tab indentation, runs longer than 31, mixed runs.
const code = [
  "def f(x):\n    return x + 1\n",
  "def f(x):\n\treturn x + 1\n",
  "class A:\n    def __init__(self):\n        self.x = 0\n\n    def inc(self):\n        self.x += 1\n        return self.x\n",
  "if (a) {\n\t\tif (b) {\n\t\t\tc();\n\t\t}\n}\n",
  "int main(int argc, char** argv) {\n  for (int i = 0; i < argc; i++) printf(\"%s\\n\", argv[i]);\n  return 0;\n}\n",
  "x = [1, 2, 3]  # comment\ny = {'a': 1, \"b\": 2}\n",
  " ".repeat(31) + "x",
  " ".repeat(32) + "x",
  " ".repeat(33) + "x",
  " ".repeat(40) + "deeply_indented()",
  " ".repeat(62) + "y",
  " ".repeat(63) + "z",
  " ".repeat(64),
  " ".repeat(100) + "end",
  "a" + " ".repeat(35) + "b",
  "\t".repeat(9) + "x",
  "\t".repeat(10) + "x",
  "\t".repeat(17) + "x",
  "\t".repeat(20),
  "\t \t \t  x",
  "  \t\t  \t\t\t   mixed",
  "line1\n        line2\n\t\tline3\n",
  "    \n    \n",
  "x = 1\r\n    y = 2\r\n",
  "for i in range(10):\n" + " ".repeat(4) + "for j in range(10):\n" + " ".repeat(8) + "print(i * j)\n",
  "```python\nprint('hello')\n```",
  "#include <stdio.h>\n#define MAX(a, b) ((a) > (b) ? (a) : (b))\n",
  "SELECT * FROM users WHERE id = 42 AND name LIKE '%bob%';",
  "<html><body><div class=\"x\">Hi &amp; bye</div></body></html>",
  "{\"key\": [1, 2.5, true, null], \"nested\": {\"a\": \"b\"}}",
  "fn main() -> Result<(), Box<dyn Error>> { Ok(()) }",
  "x+=1;y-=2;z*=3;w/=4;v%=5;u**=6;t//=7",
  "a_b_c __dunder__ camelCase PascalCase kebab-case SCREAMING_SNAKE",
  "0x1F 0b1010 0o777 1e-10 3.14e+5 -42 +7",
  "   ",
  "  ",
  " ",
  "\t",
  "\t\t",
  "\n",
  "\n\n\n",
  "\r\n",
  "\r\n\r\n",
  " \n",
  "\n ",
  "a\n\n\n\nb",
  "x  ",
  "x \n",
  "x\t\t\n",
];

const contractions = [
  "I'm you're we've they'll she'd it's don't can't won't",
  "I'M YOU'RE WE'VE THEY'LL SHE'D IT'S",
  "It'S y'all 'tis o'clock rock'n'roll",
  "it’s don’t (curly apostrophes)",
  "''s '''t 's 't 're 've 'm 'll 'd",
  "'",
  "''",
  "'s",
  "x's",
  " 's",
  "'ll've'd",
  "the dog's bone; the dogs' bones",
  "\"quoted\" 'single' `backtick`",
  "can't've y'all'd've",
];

const digits = [
  "1234567890",
  "12345678901234567890123456789012345678901234567890",
  "3.14159265358979",
  "1,000,000 and 1.000.000",
  "2024-01-01T12:34:56Z",
  "+1 (555) 123-4567",
  "٠١٢٣٤٥٦٧٨٩ Arabic-Indic digits",
  "१२३ Devanagari digits",
  "１２３ fullwidth digits",
  "x² + y³ = z¹",
  "½ ¼ ¾ ⅓",
  "Ⅻ Ⅳ ⅸ roman numerals",
  "①②③ circled",
  "𝟘𝟙𝟚 mathematical digits",
  "abc123def456",
  " 42",
  "42 ",
  "v1.2.3-beta+build.5",
];

const scripts = [
  "这是一个测试句子，用来检查中文分词。",
  "日本語のテキストです。ひらがなとカタカナと漢字。",
  "한국어 텍스트입니다. 안녕하세요!",
  "هذا نص باللغة العربية.",
  "זהו טקסט בעברית.",
  "यह हिंदी में एक वाक्य है।",
  "นี่คือประโยคภาษาไทย",
  "Это предложение на русском языке.",
  "Αυτή είναι μια πρόταση στα ελληνικά.",
  "ეს არის ქართული ტექსტი.",
  "Սա հայերեն տեքստ է։",
  "ይህ የአማርኛ ጽሑፍ ነው።",
  "இது ஒரு தமிழ் வாக்கியம்.",
  "এটি একটি বাংলা বাক্য।",
  "Tiếng Việt có nhiều dấu thanh.",
  "Türkçe ğüşıöç İ ı",
  "Ελληνικά και English mixed 中文 and العربية",
  "ᚠᚢᚦᚨᚱᚲ runes",
  "𐌰𐌱𐌲 Gothic",
  "𓀀𓀁𓀂 hieroglyphs",
  "ꦲꦏ꧀ꦱꦫ Javanese",
  "ᏣᎳᎩ Cherokee",
  "Ωmega ∑ummation ∫ntegral ∞",
  "ǅungla ǈj ǋj titlecase",
  "ʰʲʷ modifier letters ー々",
  "Straße GROSSE ß ẞ",
];

const combining = [
  "e\u0301",
  "cafe\u0301",
  "n\u0303o\u0308",
  "Z\u0351\u0344\u0318a\u0305\u0316l\u0363\u0326g\u0350o\u0349",
  "\u0301 starts with a combining mark",
  " \u0301",
  "a \u0301b",
  "\u1100\u1161\u11a8 Hangul jamo",
  "क्षत्रिय",
  "x\u20dd enclosing",
  "\u0915\u093f\u0928\u094d\u0928",
  "a\u200db zero width joiner",
  "a\u200bb zero width space",
  "a\u00adb soft hyphen",
  "\ufe0f variation selector",
];

const emoji = [
  "👍",
  "Great job 👍👍👍",
  "👨‍👩‍👧‍👦 family",
  "🏳️‍🌈 rainbow flag",
  "🇺🇸🇯🇵🇫🇷 flags",
  "👋🏽 👋🏿 skin tones",
  "1️⃣ 2️⃣ keycaps",
  "I ❤️ NY",
  "😀😃😄😁😆😅😂🤣",
  "emoji🙂inside🙂words",
  "🧑‍💻 coding",
  " 🎉",
  "🎉 ",
];

// White_Space per UCD (model.md: exactly these 25 count as \s) and look-alikes that
// do not count (U+200B, U+FEFF, U+180E, U+2060).
const whitespace = [
  "a\u00a0b",
  "a \u00a0b",
  "a\u00a0 b",
  "\u00a0a",
  "a\u00a0",
  "a\u3000b",
  "日本\u3000語",
  "a\u2028b",
  "a\u2029b",
  "a\u0085b",
  "a \u0085b",
  "a\u0085",
  "\u0085",
  "a\ufeffb",
  "\ufeffa",
  "a \ufeffb",
  "a\u180eb",
  "a\u2060b",
  "a\u1680b",
  "a\u2000b\u2001c\u2002d\u2003e\u2004f\u2005g\u2006h\u2007i\u2008j\u2009k\u200al",
  "a\u202fb\u205fc",
  "a\u000bb\u000cc",
  "a\r\nb\r\n",
  "a\rb",
  "  \u00a0  x",
  "\u00a0\u00a0\u00a0",
  " \u3000 ",
  "\u2028\u2029",
  "x \u2028 y",
];

const special = [
  "<|endoftext|>",
  "<|endoftext|><|endoftext|>",
  "a<|endoftext|>b",
  "Hello<|endoftext|> world",
  "Hello <|endoftext|>world",
  " <|endoftext|> ",
  "  <|endoftext|>  ",
  "<|endoftext|",
  "|endoftext|>",
  "<|endoftext|>>",
  "<<|endoftext|>",
  "<|EndOfText|>",
  "<|endoftext|>\n",
  "end of doc.<|endoftext|>Start of next doc.",
  "<|endoftext|>" + " ".repeat(40) + "<|endoftext|>",
  "",
];

// Characters where the spec's classes differ from JavaScript's (node's \s is not
// White_Space, and its \p{L} is a later Unicode than 15.0): see make_fixtures.mjs.
const corner = [
  "x\u{2EBF0}y",        // CJK Ext I ideograph: Lo since Unicode 15.1, unassigned in 15.0
  " \u{2EBF0}\u{2EBF1}",
  "\u{10D50}\u{10D51} Garay",  // Unicode 16 letters
  "\u1C89\u1C8A Cyrillic TJE",  // Unicode 16 letters
  "\u{1CCF0}\u{1CCF1} digits",  // Unicode 16 Nd (outlined digits)
  "\u{16D40}\u{16D41} Kirat Rai",  // Unicode 16
  "\u0085\u0085 x",
  "a \ufeff",
];

// Pseudo-random strings from a pool that mixes every class the pattern cares about.
function randomStrings(count) {
  const pool = [
    ..."abcXYZ019", " ", " ", " ", "\t", "\n", "\r", "'", "'s", "'ll", "'re", "-", ".", ",", "!", "<", ">", "|",
    "\u00a0", "\u3000", "\u2028", "\u0085", "\ufeff", "\u200b", "é", "e\u0301", "ß", "中", "日本", "한", "ا", "ी",
    "١", "²", "½", "Ⅻ", "😀", "👨‍👩‍👧", "🇯🇵", "\u0301", "<|endoftext|>", "  ", "    ", "\t\t", "€", "™", "©",
    "\u{1F600}", "\u{10400}", "\u{1D7D8}",
  ];
  const r = rng(20261127);
  const out = [];
  for (let k = 0; k < count; k++) {
    const len = 1 + r(30);
    let s = "";
    for (let i = 0; i < len; i++) s += pool[r(pool.length)];
    out.push(s);
  }
  return out;
}

// A 20 KB paragraph of English-like prose (a fixed word list, deterministic).
function longParagraph(bytes) {
  const words = ("the of and to in is was that for on with as by at from it his an were are which this be " +
    "image dog cat person red blue green running sitting table street car building sky water tree " +
    "however, although; because: (for example) \"quoted\" it's they're 1999 2024 3.5 42% model's").split(" ");
  const r = rng(42);
  let s = "The";
  while (s.length < bytes) {
    s += " " + words[r(words.length)];
    if (r(12) === 0) s += ".";
    if (r(40) === 0) s += "\n";
  }
  return s;
}

export function allCases() {
  const groups = { prose, prompts, code, contractions, digits, scripts, combining, emoji, whitespace, special, corner,
    random: randomStrings(60), long: [longParagraph(20000), "a".repeat(1000), "9".repeat(500), "!".repeat(300)] };
  const cases = [];
  for (const [kind, list] of Object.entries(groups))
    for (const text of list) cases.push({ kind, text });
  return cases;
}
