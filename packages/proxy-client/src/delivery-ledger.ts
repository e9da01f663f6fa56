/**
 * Turns a lap of the ring into the number of MESSAGES this client lost. The reader only knows how many ring records
 * it skipped, and those are everyone's records (a large message spans many). The daemon knows how many messages it
 * addressed to us (`deliveredMessages` in its status, counted when a message is published whole) and how many
 * records it had written at that moment (`recordsWritten`). Once our reader has read every record before that
 * point, the messages addressed to us that we neither handed out whole nor already reported lost are what the lap
 * cost: counted exactly, whatever the message sizes and whoever else shares the ring.
 */
export class DeliveryLedger {
  /** Messages addressed to us that were read whole (handed to sockets, or dropped on purpose for a socket we left). */
  private whole = 0;
  /** Messages addressed to us already reported lost (torn copies, fragments missing, earlier laps). */
  private reported = 0;
  /** A count is in flight; laps meanwhile are counted by another round after it. */
  private counting = false;
  /**
   * While a count is in flight: `whole` when it was asked, and the ring sequence of each whole message read since.
   * The daemon's answer describes the records before one point; the reader may already be past it when the answer
   * comes, so the messages read at or after that point must not be subtracted from what the daemon counted.
   */
  private wholeWhenAsked = 0;
  private readSince: number[] | undefined;
  private lappedWhileCounting = false;

  /** One message addressed to us was read whole. */
  read(sequence: number): void {
    this.whole += 1;
    this.readSince?.push(sequence);
  }

  /** One message addressed to us was reported lost (by the caller, in a `gap` event). */
  lost(): void {
    this.reported += 1;
  }

  /**
   * The reader was lapped. `count` asks the daemon for its side and must call back with its answer once the reader
   * has read up to it (undefined if it cannot tell); `report` gets the messages the lap cost.
   */
  lapped(
    count: (settle: (delivered: number | undefined, point: number) => void) => void,
    report: (lostMessages: number) => void,
  ): void {
    if (this.counting) {
      // Its loss may lie after the point the daemon is being asked about: counted by the next round.
      this.lappedWhileCounting = true;
      return;
    }
    this.counting = true;
    this.wholeWhenAsked = this.whole;
    this.readSince = [];
    count((delivered, point) => {
      this.counting = false;
      const readBefore = this.wholeWhenAsked + (this.readSince ?? []).filter((s) => s < point).length;
      this.readSince = undefined;
      // Unknown (the daemon went away first): the loss falls in the reconnect window, reported there.
      const lost = delivered === undefined ? 0 : Math.max(0, delivered - readBefore - this.reported);
      this.reported += lost;
      if (lost > 0) report(lost);
      if (this.lappedWhileCounting) {
        this.lappedWhileCounting = false;
        this.lapped(count, report);
      }
    });
  }
}
