// The conformance corpus (fixtures/corpus): real Alpaca messages, each with its public source, by feed.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FeedKind } from '../src/index.js';
import { parseJsonLossless } from '../src/lossless-json.js';

const here = dirname(fileURLToPath(import.meta.url));

interface Sample {
  readonly source: string;
  readonly item: Record<string, unknown>;
}

export const CORPUS: Readonly<Record<string, { kind: FeedKind; path: string; samples: Sample[] }>> = {
  stocks: { kind: 'stocks', path: '/v2/iex', samples: load('stocks') },
  crypto: { kind: 'crypto', path: '/v1beta3/crypto/us', samples: load('crypto') },
  'crypto-perps': {
    kind: 'crypto-perps',
    path: '/v1beta1/crypto-perps/global',
    samples: load('crypto-perps'),
  },
  news: { kind: 'news', path: '/v1beta1/news', samples: load('news') },
};

function load(name: string): Sample[] {
  return parseJsonLossless(
    readFileSync(join(here, 'fixtures', 'corpus', `${name}.json`), 'utf8'),
  ) as Sample[];
}
