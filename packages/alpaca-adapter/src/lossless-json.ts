// JSON with Alpaca's numbers intact. Alpaca's integers are 64-bit (crypto trade ids exceed 2^53), and plain
// JSON.parse rounds them to the nearest double: `3447222699101865076` becomes `3447222699101865000`. Parsing here
// keeps every integer a double cannot hold exactly as a `bigint`; writing here prints bigints as their digits and
// escapes `<`, `>`, `&` (and U+2028/U+2029) the way Alpaca's Go encoder does.

/** A double holds every integer of up to 15 digits exactly: text without a run of 16 digits needs no care. */
const LONG_DIGIT_RUN = /\d{16}/;

const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;

/** JSON.parse, except that integers beyond Number.MAX_SAFE_INTEGER come back as exact `bigint`s. */
export function parseJsonLossless(text: string): unknown {
  if (!LONG_DIGIT_RUN.test(text)) return JSON.parse(text);
  const parser = new LosslessParser(text);
  const value = parser.value();
  parser.end();
  return value;
}

class LosslessParser {
  private i = 0;
  constructor(private readonly text: string) {}

  end(): void {
    this.space();
    if (this.i !== this.text.length) this.fail('unexpected trailing text');
  }

  value(): unknown {
    this.space();
    const c = this.text.charCodeAt(this.i);
    if (c === 0x7b) return this.object();
    if (c === 0x5b) return this.array();
    if (c === 0x22) return this.string();
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    for (const [word, value] of WORDS) {
      if (this.text.startsWith(word, this.i)) {
        this.i += word.length;
        return value;
      }
    }
    return this.fail('unexpected character');
  }

  private object(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    this.i++;
    this.space();
    if (this.text.charCodeAt(this.i) === 0x7d) {
      this.i++;
      return out;
    }
    for (;;) {
      this.space();
      if (this.text.charCodeAt(this.i) !== 0x22) this.fail('expected a key');
      const key = this.string();
      this.space();
      if (this.text.charCodeAt(this.i++) !== 0x3a) this.fail("expected ':'");
      // defineProperty: a key named __proto__ is data, as with JSON.parse.
      Object.defineProperty(out, key, {
        value: this.value(),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      this.space();
      const c = this.text.charCodeAt(this.i++);
      if (c === 0x7d) return out;
      if (c !== 0x2c) this.fail("expected ',' or '}'");
    }
  }

  private array(): unknown[] {
    const out: unknown[] = [];
    this.i++;
    this.space();
    if (this.text.charCodeAt(this.i) === 0x5d) {
      this.i++;
      return out;
    }
    for (;;) {
      out.push(this.value());
      this.space();
      const c = this.text.charCodeAt(this.i++);
      if (c === 0x5d) return out;
      if (c !== 0x2c) this.fail("expected ',' or ']'");
    }
  }

  private string(): string {
    const from = this.i;
    let escaped = false;
    for (let k = from + 1; k < this.text.length; k++) {
      const c = this.text.charCodeAt(k);
      if (c === 0x5c) {
        escaped = true;
        k++;
      } else if (c === 0x22) {
        this.i = k + 1;
        return escaped ? (JSON.parse(this.text.slice(from, k + 1)) as string) : this.text.slice(from + 1, k);
      }
    }
    return this.fail('unterminated string');
  }

  private number(): number | bigint {
    NUMBER.lastIndex = this.i;
    const m = NUMBER.exec(this.text);
    if (!m) return this.fail('invalid number');
    this.i = NUMBER.lastIndex;
    const n = Number(m[0]);
    if (m[1] === undefined && m[2] === undefined && !Number.isSafeInteger(n)) return BigInt(m[0]);
    return n;
  }

  private space(): void {
    const t = this.text;
    while (this.i < t.length) {
      const c = t.charCodeAt(this.i);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      this.i++;
    }
  }

  private fail(what: string): never {
    throw new SyntaxError(`${what} in JSON at position ${this.i}`);
  }
}

const WORDS: readonly [string, unknown][] = [
  ['true', true],
  ['false', false],
  ['null', null],
];

const GO_ESCAPES: Readonly<Record<string, string>> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

/** A JSON string literal as Go's encoding/json writes it (HTML-safe). */
export function goJsonString(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => GO_ESCAPES[c]!);
}

/**
 * JSON text as Alpaca writes it: bigints as their digits, `<>&` escaped. Values other than plain data (functions,
 * undefined in objects) are skipped like JSON.stringify skips them; a non-finite number is `null`.
 */
export function stringifyAlpacaJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'string':
      return goJsonString(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'bigint':
      return value.toString();
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (Array.isArray(value)) return `[${value.map(stringifyAlpacaJson).join(',')}]`;
      const parts: string[] = [];
      for (const [key, v] of Object.entries(value)) {
        if (v === undefined || typeof v === 'function') continue;
        parts.push(`${goJsonString(key)}:${stringifyAlpacaJson(v)}`);
      }
      return `{${parts.join(',')}}`;
    }
    default:
      return 'null';
  }
}
