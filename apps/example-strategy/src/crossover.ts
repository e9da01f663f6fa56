/**
 * A per-symbol moving-average crossover: the classic, readable momentum signal. A fast average crossing above the
 * slow one says momentum turned up (buy); crossing below says it turned down (sell). Nothing here trades: the
 * strategy only reports the signal it would act on.
 */
export type Side = 'buy' | 'sell';

export interface Signal {
  symbol: string;
  side: Side;
  price: number;
  fast: number;
  slow: number;
}

export interface CrossoverOptions {
  /** Prices in the fast average. */
  fast: number;
  /** Prices in the slow average; must be larger than `fast`. */
  slow: number;
}

/** A fixed-size window with a running sum, so each price costs O(1) however long the window. */
class RollingMean {
  readonly #values: number[] = [];
  #sum = 0;
  #next = 0;

  constructor(readonly size: number) {}

  push(value: number): void {
    if (this.#values.length < this.size) {
      this.#values.push(value);
    } else {
      this.#sum -= this.#values[this.#next]!;
      this.#values[this.#next] = value;
      this.#next = (this.#next + 1) % this.size;
    }
    this.#sum += value;
  }

  get full(): boolean {
    return this.#values.length === this.size;
  }

  get mean(): number {
    return this.#sum / this.#values.length;
  }
}

export class MovingAverageCrossover {
  readonly #fast: RollingMean;
  readonly #slow: RollingMean;
  /** Which side of the slow average the fast one was on last time both were ready. */
  #above: boolean | undefined;

  constructor(
    readonly symbol: string,
    options: CrossoverOptions,
  ) {
    if (!Number.isInteger(options.fast) || options.fast < 1) {
      throw new RangeError(`fast must be a positive integer, got ${options.fast}`);
    }
    if (!Number.isInteger(options.slow) || options.slow <= options.fast) {
      throw new RangeError(`slow must be an integer larger than fast (${options.fast}), got ${options.slow}`);
    }
    this.#fast = new RollingMean(options.fast);
    this.#slow = new RollingMean(options.slow);
  }

  /** Feeds one price; returns a signal only on the price where the averages cross. */
  update(price: number): Signal | undefined {
    this.#fast.push(price);
    this.#slow.push(price);
    if (!this.#slow.full) return undefined;
    const fast = this.#fast.mean;
    const slow = this.#slow.mean;
    if (fast === slow) return undefined;
    const above = fast > slow;
    const crossed = this.#above !== undefined && above !== this.#above;
    this.#above = above;
    if (!crossed) return undefined;
    return { symbol: this.symbol, side: above ? 'buy' : 'sell', price, fast, slow };
  }
}
