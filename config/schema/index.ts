export * from './common.js';
export * from './profile.js';
export * from './site.js';
export * from './safety.js';
export * from './platforms.js';
