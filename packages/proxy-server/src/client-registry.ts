import type { ClientSession } from './client-session.js';

/**
 * The clients connected right now: ids for the protocol, reader slots for the ring. A slot is handed out once per
 * connected client and returned when it goes, so records addressed to a slot reach exactly one live process.
 */
export class ClientRegistry {
  private readonly byId = new Map<number, ClientSession>();
  private readonly bySlot = new Map<number, ClientSession>();
  private nextId = 1;

  constructor(private readonly maxSlots: number) {}

  get size(): number {
    return this.byId.size;
  }

  /** Admits a client: gives it an id and the lowest free reader slot, or returns false when all are taken. */
  admit(session: ClientSession): boolean {
    for (let slot = 0; slot < this.maxSlots; slot++) {
      if (this.bySlot.has(slot)) continue;
      session.id = this.nextId++;
      session.readerSlot = slot;
      this.byId.set(session.id, session);
      this.bySlot.set(slot, session);
      return true;
    }
    return false;
  }

  remove(session: ClientSession): boolean {
    if (this.byId.get(session.id) !== session) return false;
    this.byId.delete(session.id);
    this.bySlot.delete(session.readerSlot);
    return true;
  }

  get(id: number): ClientSession | undefined {
    return this.byId.get(id);
  }

  atSlot(slot: number): ClientSession | undefined {
    return this.bySlot.get(slot);
  }

  all(): IterableIterator<ClientSession> {
    return this.byId.values();
  }
}
