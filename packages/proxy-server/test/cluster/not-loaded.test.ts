// Without --cluster nothing NATS-related is loaded: the daemon's and the CLI's built files (and every chunk they
// import) never name a NATS module; only the separate cluster entry does.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const dist = fileURLToPath(new URL('../../dist/', import.meta.url));

describe('the cluster layer is a separate entry', () => {
  it('no file of the daemon or the CLI outside dist/cluster/ refers to @nats-io', () => {
    const files = readdirSync(dist).filter((name) => /\.(c?js)$/.test(name));
    expect(files).toEqual(expect.arrayContaining(['index.js', 'index.cjs', 'cli.js', 'cli.cjs']));
    const naming = files.filter((name) => readFileSync(join(dist, name), 'utf8').includes('@nats-io'));
    expect(naming).toEqual([]);
  });

  it('the cluster entry is where the NATS client lives', () => {
    expect(readFileSync(join(dist, 'cluster/index.js'), 'utf8')).toContain('@nats-io/transport-node');
  });
});
