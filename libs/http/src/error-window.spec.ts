import { ErrorWindow } from './error-window.js';

describe('ErrorWindow', () => {
  it('counts outcomes inside the window and forgets older ones', () => {
    let now = 100_000;
    const w = new ErrorWindow(10_000, () => now);
    w.record(true);
    w.record(false);
    now += 4000;
    w.record(false);
    w.record(true);
    expect(w.totals()).toEqual({ total: 4, failed: 2, ratio: 0.5 });
    now += 7000; // the first second is now outside the 10 s window
    expect(w.totals()).toEqual({ total: 2, failed: 1, ratio: 0.5 });
    now += 20_000;
    expect(w.totals()).toEqual({ total: 0, failed: 0, ratio: 0 });
  });

  it('reuses a bucket after wrapping around', () => {
    let now = 0;
    const w = new ErrorWindow(3000, () => now);
    w.record(false);
    now = 3000; // same bucket index as second 0, new second
    w.record(true);
    expect(w.totals()).toEqual({ total: 1, failed: 0, ratio: 0 });
  });
});
