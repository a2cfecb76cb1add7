export * from './tcp-fault-proxy.js';
