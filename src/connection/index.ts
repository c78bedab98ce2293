export * from './channel-opens.js';
export * from './channel-requests.js';
export * from './connection.js';
export * from './connection-types.js';
export * from './global-requests.js';
export * from './messages.js';
export * from './terminal-modes.js';
export * from './request-policy.js';
