import {
  encodeDataRecordInto,
  type FragmentInfo,
  fragmentPayload,
  maxFragmentPayload,
  RecipientSet,
} from '@wsproxy/protocol';
import type { RingWriter } from '@wsproxy/shm-queue';
import type { ClientId } from '../adapter.js';
import type { ClientRegistry } from '../client-registry.js';

/**
 * Writes upstream messages into the shared ring, once per message whatever the number of recipients, tagged with
 * the recipients' reader slots. A message larger than one record goes as consecutive fragments (the protocol's
 * `fragmentPayload`) that the client reassembles. Never blocks: the ring overwrites what a lapped reader has not
 * read, and that reader reports a gap.
 *
 * Publication is batched per event-loop turn: the first record of a turn corks the ring, and a microtask uncorks
 * it once the turn's synchronous work is done. `ws` emits every frame of one socket read synchronously, so a burst
 * that arrived together becomes visible together — one tail store and at most one doorbell per sleeping client per
 * burst, instead of a reader woken for the first frame, going back to sleep and being woken again for the next.
 * The microtask runs before the daemon returns to the event loop, so no record waits for I/O or a timer.
 */
export class RingPublisher {
  private readonly scratch: Uint8Array;
  private readonly recipients = new RecipientSet();
  private readonly nextMessageId = new Map<number, number>();
  private turnCorked = false;
  private readonly endTurn = (): void => {
    this.turnCorked = false;
    this.ring.uncork();
  };

  constructor(
    private readonly ring: RingWriter,
    private readonly clients: ClientRegistry,
  ) {
    this.scratch = new Uint8Array(ring.maxRecordSize);
  }

  /** Publishes one whole message of `connectionId` to the given clients; returns how many received it. */
  publish(connectionId: number, clientIds: Iterable<ClientId>, payload: Uint8Array, binary: boolean): number {
    const recipients = this.recipients;
    recipients.clear();
    for (const id of clientIds) {
      const session = this.clients.get(id);
      if (!session) continue;
      recipients.add(session.readerSlot);
      session.stats.deliveredMessages += 1;
      session.stats.deliveredBytes += payload.byteLength;
    }
    if (recipients.size === 0) return 0;
    this.corkForTurn();
    const room = maxFragmentPayload(this.ring.maxRecordSize, recipients);
    if (payload.byteLength <= room) {
      // The common case, kept free of the generator: one record, no fragment fields.
      this.write(connectionId, binary, payload, null);
      return recipients.size;
    }
    const messageId = this.nextMessageId.get(connectionId) ?? 0;
    this.nextMessageId.set(connectionId, (messageId + 1) >>> 0);
    // The fragments become visible together (one tail store, one doorbell per sleeping client), so a client is
    // not woken to find half a message — unless the message exceeds a quarter of the ring, which is published
    // in parts.
    this.ring.cork();
    try {
      for (const part of fragmentPayload(payload, room, messageId)) {
        this.write(connectionId, binary, part.payload, part.fragment);
      }
    } finally {
      this.ring.uncork();
    }
    return recipients.size;
  }

  /** Holds the ring's publication until this turn's synchronous work is done (see the class comment). */
  private corkForTurn(): void {
    if (this.turnCorked) return;
    this.turnCorked = true;
    this.ring.cork();
    queueMicrotask(this.endTurn);
  }

  forget(connectionId: number): void {
    this.nextMessageId.delete(connectionId);
  }

  private write(
    connectionId: number,
    binary: boolean,
    payload: Uint8Array,
    fragment: FragmentInfo | null,
  ): void {
    const length = encodeDataRecordInto(this.scratch, 0, {
      connectionId,
      binary,
      recipients: this.recipients,
      payload,
      fragment,
    });
    this.ring.write(this.scratch.subarray(0, length));
  }
}
