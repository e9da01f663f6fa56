// A wall-clock budget shared by a whole benchmark session, so `bench:quick` stays bounded no matter how slow the
// machine is: suites check it between rounds and measure fewer rounds (and say so) instead of running over.
export class Budget {
  private readonly deadline: number;

  constructor(readonly totalMs: number) {
    this.deadline = Date.now() + totalMs;
  }

  remainingMs(): number {
    return this.deadline - Date.now();
  }

  exhausted(): boolean {
    return this.remainingMs() <= 0;
  }

  /** A sub-budget: at most `ms`, never beyond this budget's own deadline. */
  slice(ms: number): Budget {
    return new Budget(Math.max(0, Math.min(ms, this.remainingMs())));
  }
}
