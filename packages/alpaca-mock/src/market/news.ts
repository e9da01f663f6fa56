/**
 * Synthetic news: every `everyTicks` ticks, while anyone listens, one article about one or two of the symbols
 * being listened to (so subscribers actually receive some). News has no `S`; clients route it by `symbols[]`.
 * Ids count up from 1: a gap is a lost article. Like real articles, some name no symbol at all (only `*`
 * subscribers get those) or three, some carry an `images` array, and now and then one has a very long body.
 */
import { hashSeed, Random } from '../random.js';
import type { SyntheticClock } from './clock.js';
import type { AssetMarket, MarketEvent } from './types.js';

const VERBS = ['beats', 'misses', 'raises', 'cuts', 'announces', 'expands', 'reviews'];
const NOUNS = ['earnings estimates', 'guidance', 'dividend', 'buyback plan', 'product line', 'partnership'];
const AUTHORS = ['Benzinga Newsdesk', 'Mock Wire', 'Synthetic Staff'];
/** About this many bytes of content in the occasional very long article. */
const LONG_BODY_BYTES = 40_000;

export class NewsMarket implements AssetMarket {
  private readonly rng: Random;
  private nextId = 1;
  readonly universeOnly = false;

  constructor(
    seed: number,
    private readonly clock: SyntheticClock,
    readonly universe: readonly string[],
    private readonly everyTicks: number,
  ) {
    this.rng = new Random(hashSeed(seed, 'news'));
  }

  step(tick: number, active: ReadonlySet<string>, out: MarketEvent[]): void {
    if (active.size === 0 || tick % this.everyTicks !== 0) return;
    const pool = [...active].sort();
    const first = this.rng.pick(pool);
    const shape = this.rng.next();
    const symbols =
      shape < 0.05
        ? []
        : shape < 0.15 && pool.length >= 3
          ? [first, this.rng.pick(pool), this.rng.pick(pool)]
          : pool.length > 1 && shape < 0.45
            ? [first, this.rng.pick(pool)]
            : [first];
    const unique = [...new Set(symbols)];
    const id = this.nextId++;
    const headline = `${unique.join(', ') || 'Markets'} ${this.rng.pick(VERBS)} ${this.rng.pick(NOUNS)}`;
    const withImages = this.rng.chance(0.3);
    const longBody = this.rng.chance(0.05);
    const t = this.clock
      .timeOf(tick)
      .plusNanos(this.rng.int(0, Math.max(1, Math.floor(this.clock.tickNs / 2)) - 1));
    out.push({
      channel: 'news',
      symbol: '',
      symbols: unique,
      message: {
        T: 'n',
        id,
        headline,
        summary: `Synthetic article ${id}: ${headline}.`,
        author: this.rng.pick(AUTHORS),
        created_at: t,
        updated_at: t,
        url: `https://news.invalid/mock/${id}`,
        content: longBody
          ? `<p>${headline}.</p>`.repeat(Math.ceil(LONG_BODY_BYTES / headline.length))
          : `<p>${headline}.</p>`,
        symbols: unique,
        source: 'benzinga',
        ...(withImages
          ? {
              images: ['large', 'small', 'thumb'].map((size) => ({
                size,
                url: `https://news.invalid/mock/${id}/${size}.jpg`,
              })),
            }
          : {}),
      },
    });
  }
}
