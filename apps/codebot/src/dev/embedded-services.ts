/** Something started for local development that must stop with the app. */
export interface EmbeddedService {
  /** What it is, e.g. `redis-server`. */
  name: string;
  /** Where it listens. */
  url: string;
  /** Extra note printed at startup (e.g. a warning). */
  note?: string;
  stop(): Promise<void>;
}

/** Injection token of the list of {@link EmbeddedService}s (empty outside development). */
export const EMBEDDED_SERVICES = 'Codebot(embeddedServices)';
