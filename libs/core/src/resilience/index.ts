export * from './backoff.js';
export * from './circuit-breaker.js';
export * from './pool-breaker.js';
