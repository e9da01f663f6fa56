import { InvalidArgumentError } from '../errors.js';

/**
 * The set of reader slots a record is addressed to, kept as a growable bitset so the daemon can hold one per
 * upstream connection and update it as clients join and leave, with no per-record allocation. The record encoder
 * reads it directly (as a bitset, or as a list of ids when that is smaller).
 */
export class RecipientSet implements Iterable<number> {
  /** @internal bit s of byte s>>3 is slot s. */
  bits: Uint8Array = new Uint8Array(16);
  #size = 0;
  /** @internal highest slot in the set, -1 when empty. */
  maxSlot = -1;

  static from(slots: Iterable<number>): RecipientSet {
    const set = new RecipientSet();
    for (const slot of slots) set.add(slot);
    return set;
  }

  get size(): number {
    return this.#size;
  }

  has(slot: number): boolean {
    const byte = slot >>> 3;
    return (
      Number.isInteger(slot) &&
      slot >= 0 &&
      byte < this.bits.length &&
      (this.bits[byte]! & (1 << (slot & 7))) !== 0
    );
  }

  /** Adds a slot (0..65535); returns false when it was already there. */
  add(slot: number): boolean {
    if (!Number.isInteger(slot) || slot < 0 || slot > 0xffff) {
      throw new InvalidArgumentError(`reader slot must be an integer in 0..65535, got ${slot}`);
    }
    const byte = slot >>> 3;
    if (byte >= this.bits.length) {
      const grown = new Uint8Array(Math.min(8192, Math.max(byte + 1, this.bits.length * 2)));
      grown.set(this.bits);
      this.bits = grown;
    }
    const mask = 1 << (slot & 7);
    if ((this.bits[byte]! & mask) !== 0) return false;
    this.bits[byte]! |= mask;
    this.#size++;
    if (slot > this.maxSlot) this.maxSlot = slot;
    return true;
  }

  /** Removes a slot; returns false when it was not there. */
  delete(slot: number): boolean {
    if (!this.has(slot)) return false;
    this.bits[slot >>> 3]! &= ~(1 << (slot & 7));
    this.#size--;
    if (slot === this.maxSlot) {
      let s = slot - 1;
      while (s >= 0 && !this.has(s)) s--;
      this.maxSlot = s;
    }
    return true;
  }

  clear(): void {
    this.bits.fill(0);
    this.#size = 0;
    this.maxSlot = -1;
  }

  /** The slots in ascending order. */
  slots(): number[] {
    const out: number[] = [];
    for (let byte = 0; byte <= this.maxSlot >>> 3 && this.maxSlot >= 0; byte++) {
      const v = this.bits[byte]!;
      if (v === 0) continue;
      for (let bit = 0; bit < 8; bit++) if (v & (1 << bit)) out.push(byte * 8 + bit);
    }
    return out;
  }

  [Symbol.iterator](): Iterator<number> {
    return this.slots()[Symbol.iterator]();
  }
}

/** Recipients as the encoders accept them: slot ids (any order) or a `RecipientSet`. */
export type Recipients = readonly number[] | RecipientSet;
