import {
  encodeDataRecordInto,
  RECORD_FRAGMENT_BYTES,
  RECORD_HEADER_BYTES,
  RecipientSet,
} from '@wsproxy/protocol';
import type { RingWriter } from '@wsproxy/shm-queue';
import type { ClientId } from '../adapter.js';
import type { ClientRegistry } from '../client-registry.js';

/**
 * Writes upstream messages into the shared ring, once per message whatever the number of recipients, tagged with
 * the recipients' reader slots. A message larger than one record goes as consecutive fragments that the client
 * reassembles. Never blocks: the ring overwrites what a lapped reader has not read, and that reader reports a gap.
 */
export class RingPublisher {
  private readonly scratch: Uint8Array;
  /** Largest payload a fragment may carry whatever its recipients (a full bitset is the worst case). */
  private readonly fragmentRoom: number;
  private readonly recipients = new RecipientSet();
  private readonly nextMessageId = new Map<number, number>();

  constructor(
    private readonly ring: RingWriter,
    private readonly clients: ClientRegistry,
  ) {
    this.scratch = new Uint8Array(ring.maxRecordSize);
    this.fragmentRoom =
      ring.maxRecordSize - RECORD_HEADER_BYTES - RECORD_FRAGMENT_BYTES - Math.ceil(ring.maxReaders / 8);
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
    if (payload.byteLength <= this.fragmentRoom) {
      this.write({ connectionId, binary, recipients, payload });
    } else {
      const messageId = this.nextMessageId.get(connectionId) ?? 0;
      this.nextMessageId.set(connectionId, (messageId + 1) >>> 0);
      for (let offset = 0; offset < payload.byteLength; offset += this.fragmentRoom) {
        const end = Math.min(payload.byteLength, offset + this.fragmentRoom);
        this.write({
          connectionId,
          binary,
          recipients,
          payload: payload.subarray(offset, end),
          fragment: { messageId, offset, remaining: payload.byteLength - end },
        });
      }
    }
    return recipients.size;
  }

  forget(connectionId: number): void {
    this.nextMessageId.delete(connectionId);
  }

  private write(init: Parameters<typeof encodeDataRecordInto>[2]): void {
    const length = encodeDataRecordInto(this.scratch, 0, init);
    this.ring.write(this.scratch.subarray(0, length));
  }
}
