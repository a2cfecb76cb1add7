// One bounded autocannon run (programmatic, its HDR latency histogram) with a live progress line:
// elapsed time, requests done and the current request rate. Every run stops at its duration or
// its request count, whichever comes first, and each request times out.
import autocannon from 'autocannon';

const round = (n, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

/**
 * A progress line on stderr: rewritten in place on a terminal; otherwise one line every 5 s and a
 * last one when the run ends.
 */
export function progressLine(label) {
  const tty = process.stderr.isTTY;
  const started = Date.now();
  let lastPrinted = started;
  return {
    update(text, force = false) {
      const now = Date.now();
      if (!tty && !force && now - lastPrinted < 5000) return;
      lastPrinted = now;
      const line = `  ${label}  ${((now - started) / 1000).toFixed(1)} s  ${text}`;
      if (tty) process.stderr.write(`\r\x1b[2K${line}`);
      else process.stderr.write(`${line}\n`);
    },
    done(text) {
      if (tty) process.stderr.write('\r\x1b[2K');
      else if (text) this.update(text, true);
    },
  };
}

/**
 * Runs autocannon against `url` with `connections` concurrent callers for `durationS` seconds
 * (or `amount` requests, stopped after `maxS` seconds at the latest). `requests` is autocannon's request list (method, path, headers, body,
 * setupRequest); `onResponse(done)` sees the count after every answer. `okStatuses` are the statuses that count as a success (others are errors).
 */
export async function runLoad({
  url,
  connections,
  durationS,
  amount,
  requests,
  okStatuses = [200],
  label = '',
  timeoutS = 10,
  maxS = 600,
  onResponse,
}) {
  let done = 0;
  let windowStart = Date.now();
  let windowCount = 0;
  let rate = 0;
  const progress = progressLine(label);
  const instance = autocannon({
    url,
    connections,
    ...(amount ? { amount } : { duration: durationS }),
    requests,
    timeout: timeoutS,
    // Bounded even when the server stalls: autocannon stops at `duration`; this is the backstop.
    maxOverallRequests: amount,
  });
  instance.on('response', () => {
    done++;
    windowCount++;
    onResponse?.(done);
  });
  const ticker = setInterval(() => {
    const now = Date.now();
    if (now - windowStart >= 1000) {
      rate = (windowCount * 1000) / (now - windowStart);
      windowStart = now;
      windowCount = 0;
    }
    progress.update(line());
  }, 250);
  const runStarted = Date.now();
  // Before the first full second the rate so far stands in for the last second's.
  const line = () => {
    const current = rate || (done * 1000) / Math.max(1, Date.now() - runStarted);
    return `${done.toLocaleString('en-US')} requests  ${Math.round(current)} req/s`;
  };
  const backstop = setTimeout(() => instance.stop(), ((durationS ?? maxS) + timeoutS + 5) * 1000);
  const result = await new Promise((resolve, reject) => {
    instance.once('done', resolve);
    instance.once('error', reject);
  }).finally(() => {
    clearInterval(ticker);
    clearTimeout(backstop);
    progress.done(`${line()} (done)`);
  });
  return summarize(result, okStatuses);
}

/** The numbers the benchmarks record from an autocannon result. */
export function summarize(result, okStatuses = [200]) {
  const codes = {};
  for (const [code, { count }] of Object.entries(result.statusCodeStats ?? {})) codes[code] = count;
  const total = Object.values(codes).reduce((a, b) => a + b, 0);
  const ok = okStatuses.reduce((sum, status) => sum + (codes[String(status)] ?? 0), 0);
  const seconds = result.duration;
  return {
    requests: total,
    ok,
    reqPerSec: round(ok / seconds, 1),
    latencyMs: {
      p50: result.latency.p50,
      p99: result.latency.p99,
      p999: result.latency.p99_9,
      max: result.latency.max,
      mean: round(result.latency.mean),
    },
    // Socket errors (autocannon counts its timeouts among them), plus answers with a status
    // that is not a success for this endpoint.
    errors: result.errors + (total - ok),
    timeouts: result.timeouts,
    statusCodes: codes,
    durationS: round(seconds, 2),
  };
}
