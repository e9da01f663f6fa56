// The reader-slot table: how a reader claims a slot, and how the writer or a reader frees one. Every transition is
// one compare-and-swap on the slot's pid word, so concurrent claimers and reclaimers never both win.
import { InvalidArgumentError } from './errors.js';
import {
  H_SLEEPERS,
  S_GENERATION,
  S_PID,
  S_SLEEPING,
  S_SPIN_WANTED,
  S_STATE,
  SLOT_FREE,
  SLOT_RELEASING,
  slotWord,
} from './layout.js';
import { isProcessAlive } from './process.js';

/** Claims the given slot if it is free or its owner died. Returns -1 when a live process holds it. */
export function claimExactSlot(words: Int32Array, slot: number, maxReaders: number): number {
  if (!Number.isInteger(slot) || slot < 0 || slot >= maxReaders) {
    throw new InvalidArgumentError(`slot must be an integer from 0 to ${maxReaders - 1}, got ${slot}`);
  }
  return tryClaim(words, slot) || reclaimFromDead(words, slot) ? slot : -1;
}

/** Claims a free slot, else reclaims one whose owner died. Returns -1 when all owners are alive. */
export function claimSlot(words: Int32Array, maxReaders: number): number {
  for (let slot = 0; slot < maxReaders; slot++) if (tryClaim(words, slot)) return slot;
  for (let slot = 0; slot < maxReaders; slot++) if (reclaimFromDead(words, slot)) return slot;
  return -1;
}

function tryClaim(words: Int32Array, slot: number): boolean {
  return Atomics.compareExchange(words, slotWord(slot, S_PID), 0, process.pid) === 0;
}

/** Frees a slot whose owner process no longer exists, then claims it (unless someone else was faster). */
function reclaimFromDead(words: Int32Array, slot: number): boolean {
  return freeSlotOfDeadOwner(words, slot) && tryClaim(words, slot);
}

/** Frees the slot if its owner process no longer exists. Returns whether this call freed it. */
export function freeSlotOfDeadOwner(words: Int32Array, slot: number): boolean {
  const owner = Atomics.load(words, slotWord(slot, S_PID));
  return owner > 0 && owner !== process.pid && !isProcessAlive(owner) && freeSlot(words, slot, owner);
}

/**
 * Frees a slot held by `owner`; shared by the writer and by readers reclaiming a dead process's slot. The pid
 * word goes owner -> RELEASING -> 0 so nobody can claim the slot while its other words are being reset.
 */
export function freeSlot(words: Int32Array, slot: number, owner: number): boolean {
  const pidWord = slotWord(slot, S_PID);
  if (Atomics.compareExchange(words, pidWord, owner, SLOT_RELEASING) !== owner) return false;
  Atomics.store(words, slotWord(slot, S_STATE), SLOT_FREE);
  Atomics.store(words, slotWord(slot, S_SPIN_WANTED), 0);
  if (Atomics.compareExchange(words, slotWord(slot, S_SLEEPING), 1, 0) === 1)
    Atomics.sub(words, H_SLEEPERS, 1);
  Atomics.add(words, slotWord(slot, S_GENERATION), 1);
  Atomics.store(words, pidWord, 0);
  return true;
}
