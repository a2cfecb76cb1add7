/**
 * Counts request outcomes in one-second buckets over a sliding window, so pool-level health can
 * tell a burst of failures from a healthy upstream without keeping every timestamp.
 */
export class ErrorWindow {
  private readonly ok: number[];
  private readonly failed: number[];
  private readonly stamps: number[];

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {
    const size = Math.max(1, Math.ceil(windowMs / 1000));
    this.ok = new Array<number>(size).fill(0);
    this.failed = new Array<number>(size).fill(0);
    this.stamps = new Array<number>(size).fill(-1);
  }

  /** Records one outcome now. */
  record(success: boolean): void {
    const second = Math.floor(this.now() / 1000);
    const i = second % this.stamps.length;
    if (this.stamps[i] !== second) {
      this.stamps[i] = second;
      this.ok[i] = 0;
      this.failed[i] = 0;
    }
    if (success) this.ok[i] = (this.ok[i] ?? 0) + 1;
    else this.failed[i] = (this.failed[i] ?? 0) + 1;
  }

  /** Outcomes inside the window. */
  totals(): { total: number; failed: number; ratio: number } {
    const oldest = Math.floor((this.now() - this.windowMs) / 1000);
    let ok = 0;
    let failed = 0;
    this.stamps.forEach((stamp, i) => {
      if (stamp > oldest) {
        ok += this.ok[i] ?? 0;
        failed += this.failed[i] ?? 0;
      }
    });
    const total = ok + failed;
    return { total, failed, ratio: total === 0 ? 0 : failed / total };
  }
}
