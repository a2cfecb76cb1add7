export * from './shared-health-check.js';
export * from './to-indicator-result.js';
export * from './with-timeout.js';
