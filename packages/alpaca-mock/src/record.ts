/**
 * What a session exchanged with the mock, kept for inspection: the adapter's tests compare what their clients
 * received with `sent`. Bounded by `recordLimit`; messages beyond it are counted (`unrecorded`), never silently lost.
 */
export class MessageRecord {
  readonly messages: unknown[] = [];
  /** Messages not kept because the record was full. */
  unrecorded = 0;

  constructor(private readonly limit: number) {}

  add(message: unknown): void {
    if (this.messages.length < this.limit) this.messages.push(message);
    else this.unrecorded += 1;
  }

  get total(): number {
    return this.messages.length + this.unrecorded;
  }
}
