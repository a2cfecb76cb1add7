export * from './config/index.js';
export * from './errors/index.js';
export * from './health/index.js';
export * from './metrics/index.js';
export * from './pool-module/index.js';
export * from './redaction/index.js';
export * from './resilience/index.js';
export * from './shutdown/index.js';
