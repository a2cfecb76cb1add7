/** What was still open when the shutdown deadline passed. */
export interface ShutdownDeadlineReport {
  /**
   * One line per registered closer that had not finished: its name, followed by what its
   * `describeOpen()` reported (for example `redis "default": 2 dedicated connections in use`).
   * Secrets are redacted.
   */
  open: string[];
  /** Time since shutdown began, in milliseconds. */
  elapsedMs: number;
  /** The configured deadline, in milliseconds. */
  timeoutMs: number;
}

/** Options of {@link ShutdownModule}. */
export interface ShutdownModuleOptions {
  /**
   * Time between readiness turning 503 and Nest closing the HTTP server, in milliseconds: load
   * balancers and Kubernetes endpoints need a few seconds to stop sending new requests.
   * Requests keep being served while it runs.
   * @default 0
   */
  drainDelayMs?: number;
  /**
   * Deadline of the whole shutdown, counted from its start, in milliseconds; keep it below the
   * platform's grace period (Kubernetes `terminationGracePeriodSeconds`). When it passes, what
   * is still open is logged and `onDeadline` is called. Also the default time limit of each
   * registered closer.
   * @default 25000
   */
  timeoutMs?: number;
  /**
   * Called once when the deadline passes, with what is still open. The application decides what
   * to do, typically `process.exitCode = 1; process.exit()`; the library never exits the process.
   * @default nothing beyond the error log
   */
  onDeadline?: (report: ShutdownDeadlineReport) => void | Promise<void>;
  /**
   * While draining, responses are sent with `Connection: close` and keep-alive sockets are
   * closed once their current response is done, so `server.close()` does not wait for idle
   * keep-alive sockets to time out and clients reconnect elsewhere.
   * @default true
   */
  closeKeepAliveConnections?: boolean;
}
