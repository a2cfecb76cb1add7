export * from './pool-config.provider.js';
export * from './pool-lifecycle.js';
export * from './pool-module-extras.js';
export * from './pool-registry.js';
