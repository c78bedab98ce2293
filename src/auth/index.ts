export * from './auth-types.js';
export * from './client.js';
export * from './dispatch.js';
export * from './messages.js';
export * from './public-key-proof.js';
export * from './server.js';
