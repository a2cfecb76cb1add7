export * from './interfaces/shutdown-module-options.interface.js';
export { type HttpRequestEmitter, isHttpRequestEmitter } from './keep-alive-drain.js';
export * from './readiness-state.js';
export * from './shutdown.constants.js';
export * from './shutdown.module.js';
export { SHUTDOWN_MODULE_OPTIONS } from './shutdown.module-definition.js';
export * from './shutdown-coordinator.js';
