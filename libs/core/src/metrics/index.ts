export * from './histogram-series.js';
export * from './operation-durations.js';
export * from './pool-metrics.constants.js';
export * from './pool-metrics.js';
export * from './pool-metrics.module.js';
