// The Alpaca-specific parts of the drop-in endpoint that need no process: path mapping and transcoding.
import { decode, decodeTimestampToTimeSpec, ExtData, ExtensionCodec, encode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { alpacaPathFor, transcodeFrame } from '../src/index.js';

describe('alpacaPathFor', () => {
  it("maps Alpaca's paths to themselves", () => {
    for (const path of [
      '/v2/iex',
      '/v2/sip',
      '/v2/test',
      '/v1beta3/crypto/us',
      '/v1beta1/opra',
      '/v1beta1/news',
    ])
      expect(alpacaPathFor(path)).toBe(path);
    expect(alpacaPathFor('/v2/iex/')).toBe('/v2/iex');
  });

  it("maps the Go SDK's DATA_PROXY_WS form (feed without version)", () => {
    expect(alpacaPathFor('/iex')).toBe('/v2/iex');
    expect(alpacaPathFor('/sip')).toBe('/v2/sip');
    expect(alpacaPathFor('/test')).toBe('/v2/test');
    expect(alpacaPathFor('/indicative')).toBe('/v1beta1/indicative');
    expect(alpacaPathFor('/news')).toBe('/v1beta1/news');
    expect(alpacaPathFor('/crypto/us')).toBe('/v1beta3/crypto/us');
    expect(alpacaPathFor('/crypto-perps/global')).toBe('/v1beta1/crypto-perps/global');
  });

  it("maps the Go SDK's DATA_CRYPTO_PROXY_WS form (base + '/' + crypto feed name)", () => {
    // alpaca-trade-api-go v3 marketdata/stream: CryptoClient dials constructURL(DATA_CRYPTO_PROXY_WS, feed).
    for (const loc of ['us', 'us-1', 'us-2', 'bs-1'])
      expect(alpacaPathFor(`/${loc}`)).toBe(`/v1beta3/crypto/${loc}`);
    expect(alpacaPathFor('/global')).toBe('/v1beta1/crypto-perps/global');
    // Not Alpaca paths under a version: the bare location names belong to the proxy form only.
    for (const path of ['/v2/us', '/v1beta1/global', '/v1beta3/us'])
      expect(alpacaPathFor(path)).toBeUndefined();
  });

  it('serves the account stream, refuses anything else', () => {
    expect(alpacaPathFor('/stream')).toBe('/stream');
    for (const path of ['/', '/v9/iex', '/nope', '/v2/iex/extra'])
      expect(alpacaPathFor(path)).toBeUndefined();
  });
});

describe('transcodeFrame', () => {
  const rawTimestamps = new ExtensionCodec();
  rawTimestamps.register({ type: -1, encode: () => null, decode: (data) => new ExtData(-1, data) });

  it('JSON to msgpack: timestamps become extension -1 with the nanoseconds, T comes first', () => {
    const json = Buffer.from(
      JSON.stringify([
        { S: 'AAPL', T: 't', p: 1.5, t: '2024-01-02T14:30:00.123456789Z' },
        { T: 'success', msg: 'x' },
      ]),
    );
    const out = transcodeFrame(json, 'json', 'msgpack', 'stocks');
    const frame = decode(out, { extensionCodec: rawTimestamps }) as Record<string, unknown>[];
    expect(Object.keys(frame[0]!)).toEqual(['T', 'S', 'p', 't']);
    const ext = frame[0]!.t as ExtData;
    expect(ext).toBeInstanceOf(ExtData);
    expect(ext.type).toBe(-1);
    // The 64-bit form (30-bit nanoseconds, 34-bit seconds), as Go's msgpack encoder writes a 2024 time.
    expect((ext.data as Uint8Array).byteLength).toBe(8);
    expect(decodeTimestampToTimeSpec(ext.data as Uint8Array)).toEqual({
      sec: Date.parse('2024-01-02T14:30:00Z') / 1000,
      nsec: 123_456_789,
    });
    expect(frame[1]).toEqual({ T: 'success', msg: 'x' });
  });

  it('msgpack to JSON: extension timestamps become RFC-3339 strings with nanoseconds', () => {
    const data = new Uint8Array(12);
    const view = new DataView(data.buffer);
    view.setUint32(0, 5);
    view.setBigInt64(4, BigInt(Date.parse('2024-01-02T14:30:00Z') / 1000));
    const msgpack = encode([{ T: 'q', S: 'MSFT', bp: 1, t: new ExtData(-1, data) }]);
    const out = JSON.parse(Buffer.from(transcodeFrame(msgpack, 'msgpack', 'json', 'stocks')).toString());
    expect(out).toEqual([{ T: 'q', S: 'MSFT', bp: 1, t: '2024-01-02T14:30:00.000000005Z' }]);
  });

  it('leaves a frame alone when the encodings agree', () => {
    const json = Buffer.from('[{"T":"t"}]');
    expect(transcodeFrame(json, 'json', 'json', 'stocks')).toBe(json);
  });
});
