import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, isLoopback, parseListenAddress } from '../src/index.js';

describe('parseListenAddress', () => {
  it('takes PORT, HOST:PORT and [IPv6]:PORT; a bare port is loopback', () => {
    expect(parseListenAddress('8765')).toEqual({ host: '127.0.0.1', port: 8765 });
    expect(parseListenAddress('0.0.0.0:0')).toEqual({ host: '0.0.0.0', port: 0 });
    expect(parseListenAddress('localhost:9000')).toEqual({ host: 'localhost', port: 9000 });
    expect(parseListenAddress('[::1]:9000')).toEqual({ host: '::1', port: 9000 });
  });

  it('refuses anything else with a typed error', () => {
    for (const bad of ['', 'host:', ':80', '70000', 'a:b:c', 'host:port'])
      expect(() => parseListenAddress(bad)).toThrow(InvalidArgumentError);
  });
});

describe('isLoopback', () => {
  it('knows which addresses only this machine reaches', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', 'localhost']) expect(isLoopback(host)).toBe(true);
    for (const host of ['0.0.0.0', '::', '192.168.1.2', 'example.com']) expect(isLoopback(host)).toBe(false);
  });
});
