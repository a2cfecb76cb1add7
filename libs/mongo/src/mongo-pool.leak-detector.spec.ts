import {
  formatLeakReport,
  MongoLeakDetector,
  type MongoLeakReport,
} from './mongo-pool.leak-detector.js';

describe('MongoLeakDetector', () => {
  let now = 0;
  const reports: MongoLeakReport[] = [];
  const detector = (captureStacks = false) =>
    new MongoLeakDetector({
      poolName: 'orders',
      thresholdMs: 100,
      captureStacks,
      onLeak: (r) => reports.push(r),
      now: () => now,
    });

  beforeEach(() => {
    now = 1_000;
    reports.length = 0;
  });

  it('reports a check-out held past the threshold once, with pool, connection and held time', () => {
    const d = detector();
    d.track('a#7', 7, '127.0.0.1:27017');
    now += 99;
    d.scan();
    expect(reports).toHaveLength(0);
    now += 51;
    d.scan();
    d.scan();
    expect(reports).toEqual([
      {
        poolName: 'orders',
        connectionId: 7,
        address: '127.0.0.1:27017',
        heldMs: 150,
        thresholdMs: 100,
      },
    ]);
    d.stop();
  });

  it('forgets released check-outs', () => {
    const d = detector();
    d.track('a#1', 1, 'h:1');
    now += 50;
    d.release('a#1');
    now += 500;
    d.scan();
    expect(reports).toHaveLength(0);
    d.stop();
  });

  it('captures the acquiring stack only when asked', () => {
    const withStack = detector(true);
    withStack.checkOutStarted('h:1');
    withStack.track('a#2', 2, 'h:1', 0);
    now += 200;
    withStack.scan();
    expect(reports[0]?.stack).toMatch(/leak-detector\.spec/);
    expect(formatLeakReport(reports[0]!)).toMatch(
      /connection 2 to h:1 .*200 ms.*Checked out at:\n/s,
    );
    withStack.stop();

    const without = detector(false);
    without.track('a#3', 3, 'h:1');
    now += 200;
    without.scan();
    expect(reports[1]?.stack).toBeUndefined();
    expect(formatLeakReport(reports[1]!)).toContain('MONGODB_LEAK_DETECTION_STACKS=true');
    without.stop();
  });
});
