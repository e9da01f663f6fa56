import { decode, encode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import {
  AlpacaRouter,
  type ClientId,
  FrameItems,
  MalformedFrameError,
  scanJsonItems,
  scanMsgpackItems,
} from '../src/index.js';

// Real Alpaca-shaped items (ALPACA.md), with the awkward parts a scanner must respect: nested arrays, strings holding
// brackets, braces, quotes and escapes, unicode, whitespace.
const TRADE_AAPL =
  '{"T":"t","S":"AAPL","i":96921,"x":"D","p":126.55,"s":1,"c":["@","I"],"z":"C","t":"2021-02-22T15:51:44.208Z"}';
const QUOTE_AMD =
  '{"T":"q","S":"AMD","bx":"U","bp":87.66,"bs":1,"ax":"Q","ap":87.68,"as":4,"c":["R"],"z":"C","t":"2021-02-22T15:51:45.335689322Z"}';
const BAR_MSFT =
  '{"T":"b","S":"MSFT","o":240.1,"h":240.5,"l":239.9,"c":240.2,"v":1200,"n":30,"vw":240.22,"t":"2021-02-22T15:51:00Z"}';
const CORRECTION_AAPL =
  '{"T":"c","S":"AAPL","x":"N","oi":1,"op":126.5,"os":10,"oc":["@"],"ci":2,"cp":126.55,"cs":10,"cc":["@"],"z":"C","t":"2021-02-22T15:51:46Z"}';
const NEWS =
  '{"T":"n","id":24918784,"headline":"Corsair [CRSR] \\"beats\\" {estimates}, ]} ñ","summary":"a\\\\b","author":"Benzinga","created_at":"2022-01-05T22:00:00Z","updated_at":"2022-01-05T22:00:01Z","url":"https://x","content":"<p>[1,2]</p>","symbols":["CRSR","AAPL"],"source":"benzinga"}';

function json(...items: string[]): Buffer {
  return Buffer.from(`[${items.join(',')}]`);
}

function table(entries: Record<string, Record<string, string[]>>): Map<ClientId, Map<string, Set<string>>> {
  const t = new Map<ClientId, Map<string, Set<string>>>();
  for (const [client, channels] of Object.entries(entries)) {
    t.set(Number(client), new Map(Object.entries(channels).map(([c, s]) => [c, new Set(s)])));
  }
  return t;
}

function parsed(bytes: Uint8Array): unknown[] {
  return JSON.parse(Buffer.from(bytes).toString()) as unknown[];
}

describe('JSON item scanner', () => {
  it('finds each item byte range and reads T, S and news symbols without re-serialising', () => {
    const frame = Buffer.from(` [ ${TRADE_AAPL} ,\n${NEWS},${QUOTE_AMD} ] `);
    const items = new FrameItems();
    scanJsonItems(frame, items);
    expect(items.count).toBe(3);
    const slices = [0, 1, 2].map((k) => frame.toString('utf8', items.start[k], items.end[k]));
    expect(slices).toEqual([TRADE_AAPL, NEWS, QUOTE_AMD]);
    expect(items.type.slice(0, 3)).toEqual(['t', 'n', 'q']);
    expect(items.symbol.slice(0, 3)).toEqual(['AAPL', '', 'AMD']);
    expect(items.symbols[1]).toEqual(['CRSR', 'AAPL']);
  });

  it('decodes escaped T/S values and treats a lone object as an array of one', () => {
    const items = new FrameItems();
    scanJsonItems(Buffer.from('{"T":"subscription","S":"BRK\\u002eA","trades":[]}'), items);
    expect(items.count).toBe(1);
    expect(items.type[0]).toBe('subscription');
    expect(items.symbol[0]).toBe('BRK.A');
  });

  it.each([
    ['[', 'unterminated'],
    ['[{"T":"t","S":"AAPL"', "expected ',' or '}'"],
    ['[{"T":"t" "S":"A"}]', "expected ',' or '}'"],
    ['[{"T":"t"}] x', 'trailing bytes'],
    ['{"T":"t","S":"AAPL}]', 'unterminated string'],
    ['"hello"', 'expected a JSON array'],
  ])('rejects malformed frame %s with a typed error', (text) => {
    const items = new FrameItems();
    let caught: unknown;
    try {
      scanJsonItems(Buffer.from(text), items);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(MalformedFrameError);
    expect((caught as MalformedFrameError).code).toBe('WSP_ALPACA_ERR_MALFORMED_FRAME');
  });
});

describe('msgpack item scanner', () => {
  it('splits a msgpack array into the exact bytes of each map, reading T, S and symbols', () => {
    const messages = [
      { T: 't', S: 'AAPL240315C00172500', p: 1.25, s: 3, x: 'C', c: 'I', t: new Date(1700000000123) },
      {
        T: 'n',
        id: 1,
        headline: 'x',
        symbols: ['AAPL', 'TSLA'],
        source: 'benzinga',
        nested: { a: [1, -2, 3.5] },
      },
      { T: 'q', S: 'BTC/USD', bp: 1e6, bs: 0.5, ap: 1000001.5, as: 2, big: 2 ** 40, neg: -(2 ** 33) },
    ];
    const items = new FrameItems();
    const frame = Buffer.from(encode(messages));
    scanMsgpackItems(frame, items);
    expect(items.count).toBe(3);
    for (let k = 0; k < 3; k++) {
      const alone = Buffer.from(encode(messages[k]));
      expect(frame.subarray(items.start[k], items.end[k]).equals(alone)).toBe(true);
    }
    expect(items.type.slice(0, 3)).toEqual(['t', 'n', 'q']);
    expect(items.symbol.slice(0, 3)).toEqual(['AAPL240315C00172500', '', 'BTC/USD']);
    expect(items.symbols[1]).toEqual(['AAPL', 'TSLA']);
  });

  it('handles array16 frames and rejects truncated ones', () => {
    const many = Array.from({ length: 40 }, (_, k) => ({ T: 'q', S: `S${k}`, bp: k }));
    const frame = Buffer.from(encode(many));
    const items = new FrameItems();
    scanMsgpackItems(frame, items);
    expect(items.count).toBe(40);
    expect(items.symbol[39]).toBe('S39');
    expect(() => scanMsgpackItems(frame.subarray(0, frame.length - 3), items)).toThrow(MalformedFrameError);
  });
});

describe('AlpacaRouter (JSON)', () => {
  const router = new AlpacaRouter({ feed: 'stocks', encoding: 'json' });
  router.setRoutingTable(
    table({
      1: { trades: ['AAPL'], quotes: ['AMD'] },
      2: { trades: ['AAPL'] },
      3: { bars: ['*'] },
    }),
  );

  it('sends each item only to its subscribers, byte for byte, in Alpaca order, one record per run', () => {
    const frame = json(TRADE_AAPL, CORRECTION_AAPL, QUOTE_AMD, BAR_MSFT, TRADE_AAPL);
    const { records, unrouted } = router.route(frame);
    expect(unrouted).toBe(0);
    expect(records.map((r) => [r.recipients.join(','), Buffer.from(r.bytes).toString()])).toEqual([
      // trades + the correction that follows trades: clients 1 and 2, one record, original bytes and separator.
      ['1,2', `[${TRADE_AAPL},${CORRECTION_AAPL}]`],
      ['1', `[${QUOTE_AMD}]`],
      ['3', `[${BAR_MSFT}]`],
      ['1,2', `[${TRADE_AAPL}]`],
    ]);
  });

  it('keeps each client in order even when its items alternate with others', () => {
    const frame = json(QUOTE_AMD, TRADE_AAPL, QUOTE_AMD);
    const perClient = new Map<ClientId, unknown[]>();
    for (const r of router.route(frame).records) {
      for (const id of r.recipients) perClient.set(id, [...(perClient.get(id) ?? []), ...parsed(r.bytes)]);
    }
    expect(perClient.get(1)).toEqual([JSON.parse(QUOTE_AMD), JSON.parse(TRADE_AAPL), JSON.parse(QUOTE_AMD)]);
    expect(perClient.get(2)).toEqual([JSON.parse(TRADE_AAPL)]);
  });

  it('hands the upstream frame over untouched when one recipient set wants all of it', () => {
    const frame = json(TRADE_AAPL, CORRECTION_AAPL);
    const { records } = router.route(frame);
    expect(records).toHaveLength(1);
    expect(records[0]!.bytes).toBe(frame);
  });

  it('separates control messages and counts data nobody wants', () => {
    const control = Buffer.from('[{"T":"subscription","trades":["AAPL"],"quotes":[],"bars":[]}]');
    const first = router.route(control);
    expect(first.records).toHaveLength(0);
    expect(first.controls).toEqual([0]);
    const stray = router.route(json('{"T":"q","S":"TSLA","bp":1}'));
    expect(stray.records).toHaveLength(0);
    expect(stray.unrouted).toBe(1);
  });

  it('respects `*` on a channel together with explicit subscribers', () => {
    const r = new AlpacaRouter({ feed: 'stocks', encoding: 'json' });
    r.setRoutingTable(table({ 1: { trades: ['*'] }, 2: { trades: ['AAPL'] } }));
    const { records } = r.route(json(TRADE_AAPL, '{"T":"t","S":"ZZZ","p":1}'));
    const byRecipients = new Map(records.map((rec) => [rec.recipients.join(','), parsed(rec.bytes)]));
    expect(byRecipients.get('1,2')).toEqual([JSON.parse(TRADE_AAPL)]);
    expect(byRecipients.get('1')).toEqual([{ T: 't', S: 'ZZZ', p: 1 }]);
  });

  it('routes news by symbols[] (union of subscribers of every symbol named, plus `*`)', () => {
    const r = new AlpacaRouter({ feed: 'news', encoding: 'json' });
    r.setRoutingTable(
      table({ 1: { news: ['CRSR'] }, 2: { news: ['AAPL'] }, 3: { news: ['TSLA'] }, 4: { news: ['*'] } }),
    );
    const { records } = r.route(json(NEWS));
    expect(records).toHaveLength(1);
    expect(records[0]!.recipients).toEqual([1, 2, 4]);
    expect(Buffer.from(records[0]!.bytes).toString()).toBe(`[${NEWS}]`);
  });

  it('stops routing to a client as soon as the table drops it', () => {
    const r = new AlpacaRouter({ feed: 'stocks', encoding: 'json' });
    r.setRoutingTable(table({ 1: { trades: ['AAPL'] }, 2: { trades: ['AAPL'] } }));
    expect(r.route(json(TRADE_AAPL)).records[0]!.recipients).toEqual([1, 2]);
    r.setRoutingTable(table({ 1: { trades: ['AAPL'] }, 2: {} }));
    expect(r.route(json(TRADE_AAPL)).records[0]!.recipients).toEqual([1]);
  });
});

describe('AlpacaRouter (msgpack)', () => {
  it('re-wraps the selected maps in a new array header, each map untouched', () => {
    const r = new AlpacaRouter({ feed: 'options', encoding: 'msgpack' });
    r.setRoutingTable(table({ 1: { trades: ['AAPL240315C00172500'] }, 2: { quotes: ['*'] } }));
    const messages = [
      { T: 't', S: 'AAPL240315C00172500', p: 1.25, s: 3, x: 'C', c: 'I' },
      { T: 'q', S: 'AAPL240315C00172500', bp: 1.2, ap: 1.3, c: 'A' },
      { T: 't', S: 'SPY240315P00500000', p: 2, s: 1, x: 'N', c: 'I' },
    ];
    const { records, unrouted } = r.route(encode(messages));
    expect(unrouted).toBe(1);
    expect(records.map((rec) => rec.recipients.join(','))).toEqual(['1', '2']);
    expect(decode(records[0]!.bytes)).toEqual([messages[0]]);
    expect(decode(records[1]!.bytes)).toEqual([messages[1]]);
    expect(
      Buffer.from(records[0]!.bytes)
        .subarray(1)
        .equals(Buffer.from(encode(messages[0]))),
    ).toBe(true);
  });
});
