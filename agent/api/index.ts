/**
 * The agent's local API: one status snapshot (what `vigil status`, the terminal dashboard and local tools read),
 * events, the outbox, and operator commands through the one command path, over a Unix socket whose file
 * permissions are the access control (and loopback TCP when configured). See docs/local-api.md.
 */
export {
  STATUS_VERSION,
  buildStatus,
  bufferStatus,
  oldestWaitingWallTs,
  type BufferSource,
  type BufferStatus,
  type BusStatus,
  type ChannelAlarmState,
  type ChannelAlarmStatus,
  type ChannelStatus,
  type ClockStatus,
  type DeviceBusStatus,
  type OutputStatusView,
  type StatusExtras,
  type StatusSnapshot,
  type StatusSource,
  type UplinkStatus,
} from './status.js';
export { startApiServer, type ApiServer, type ApiServerOptions } from './server.js';
export { ApiSocketInUseError, SOCKET_MODE, apiSocketPath, claimSocketPath, prepareApiSocket, socketAnswers } from './socket.js';
export { CSV_COLUMNS, csvLine, exportCsv, parseTime, type TimeRange } from './buffer-export.js';
export { ApiClient, ApiError, AgentUnreachableError } from './client.js';
