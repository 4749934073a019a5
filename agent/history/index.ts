/**
 * The local reading history behind OPC UA HistoryRead: bounded append-only segments under <dataDir>/history.
 * See docs/opcua.md, "History".
 */
export {
  HistoryStore,
  type HistoryCursor,
  type HistoryPage,
  type HistoryPageFigures,
  type HistoryPageRequest,
  type HistoryPoint,
  type HistoryStats,
  type HistoryStoreOptions,
} from './store.js';
