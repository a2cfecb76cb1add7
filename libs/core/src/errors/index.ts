export * from './capture-config-error.js';
export * from './config-source-missing.error.js';
export * from './config-validation.error.js';
export * from './messages.js';
export * from './pool.error.js';
export * from './pool-closed.error.js';
export * from './pool-timeout.error.js';
export * from './pool-unavailable.error.js';
