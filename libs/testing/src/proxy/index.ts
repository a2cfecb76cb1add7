export * from './forward-proxy.js';
export * from './tcp-fault-proxy.js';
