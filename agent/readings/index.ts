export { ReadingStream, type ReadingListener } from './stream.js';
export { LatestReadings } from './latest.js';
