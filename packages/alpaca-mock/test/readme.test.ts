import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('shows test/readme-example.test.ts verbatim, so the documented example is the one that runs', () => {
    const match = /<!-- example: test\/readme-example\.test\.ts -->\n```ts\n([\s\S]*?)```/.exec(readme);
    expect(match).not.toBeNull();
    const example = readFileSync(new URL('./readme-example.test.ts', import.meta.url), 'utf8');
    expect(match?.[1]).toBe(example);
  });

  it('documents every error code the package exports', async () => {
    const errors = await import('../src/errors.js');
    const codes = Object.values(errors).map((ctor) => ctor.name);
    for (const name of codes) expect(readme).toContain(name);
    for (const code of ['INVALID_OPTION', 'LISTEN', 'CLOSED', 'TIMEOUT', 'USAGE']) {
      expect(readme).toContain(`ALPACA_MOCK_ERR_${code}`);
    }
  });
});
