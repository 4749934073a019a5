export interface FleetReport {
  agents: number;
  processes: number;
  channelsPerAgent: number;
  outageSec: number;
  reconnectHistogram: number[];
  reconnectSpreadSec: number;
  peakConnectsPerSec: number;
  drainSec: number;
  appended: number;
  receivedUnique: number;
  lost: number;
  duplicates: number;
}
