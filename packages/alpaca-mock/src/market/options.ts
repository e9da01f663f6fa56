/**
 * Synthetic option contracts (OCC symbols): per contract a seeded premium walk with a trade and a quote each tick.
 * Conditions `c` are a single string on options, unlike stocks.
 */
import { hashSeed, Random, roundTo } from '../random.js';
import type { NanoTime } from '../time.js';
import type { SyntheticClock } from './clock.js';
import type { AssetMarket, MarketEvent } from './types.js';

const OPTION_EXCHANGES = ['A', 'B', 'C', 'H', 'I', 'M', 'N', 'Q', 'X', 'Z'];

class OptionTape {
  private readonly rng: Random;
  private premium: number;

  constructor(
    seed: number,
    readonly symbol: string,
  ) {
    this.rng = new Random(hashSeed(seed, 'options', symbol));
    this.premium = roundTo(0.5 + this.rng.next() * 15, 2);
  }

  step(tickTime: NanoTime, tickNs: number, out: MarketEvent[]): void {
    const S = this.symbol;
    const half = Math.max(1, Math.floor(tickNs / 2));
    const quoteTime = tickTime.plusNanos(this.rng.int(0, half - 1));
    const tradeTime = quoteTime.plusNanos(this.rng.int(1, half));
    this.premium = roundTo(Math.max(0.01, this.premium * (1 + 0.003 * this.rng.gaussian())), 2);
    const spread = 0.05 * this.rng.int(1, 3);
    out.push({
      channel: 'quotes',
      symbol: S,
      message: {
        T: 'q',
        S,
        t: quoteTime,
        bx: this.rng.pick(OPTION_EXCHANGES),
        bp: roundTo(Math.max(0.01, this.premium - spread / 2), 2),
        bs: this.rng.int(1, 200),
        ax: this.rng.pick(OPTION_EXCHANGES),
        ap: roundTo(this.premium + spread / 2, 2),
        as: this.rng.int(1, 200),
        c: 'A',
      },
    });
    out.push({
      channel: 'trades',
      symbol: S,
      message: {
        T: 't',
        S,
        t: tradeTime,
        p: this.premium,
        s: this.rng.int(1, 50),
        x: this.rng.pick(OPTION_EXCHANGES),
        c: this.rng.pick(['I', 'J', 'S', 'a']),
      },
    });
  }
}

export class OptionMarket implements AssetMarket {
  private readonly tapes = new Map<string, OptionTape>();
  readonly universeOnly = false;

  constructor(
    private readonly seed: number,
    private readonly clock: SyntheticClock,
    readonly universe: readonly string[],
  ) {}

  step(tick: number, active: ReadonlySet<string>, out: MarketEvent[]): void {
    const time = this.clock.timeOf(tick);
    for (const symbol of [...active].sort()) {
      let tape = this.tapes.get(symbol);
      if (!tape) {
        tape = new OptionTape(this.seed, symbol);
        this.tapes.set(symbol, tape);
      }
      tape.step(time, this.clock.tickNs, out);
    }
  }
}
