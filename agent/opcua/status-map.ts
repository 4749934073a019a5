import type { Quality, QualityReason } from '../../drivers/reading.js';

/**
 * The OPC UA status code of a reading, by name (node-opcua's StatusCodes keys), so that this table can be read,
 * tested and documented without loading the OPC UA library. Every reason is mapped on purpose; the table is in
 * docs/opcua.md, "Status codes".
 */
export type OpcuaStatusName =
  | 'Good'
  | 'Uncertain'
  | 'UncertainEngineeringUnitsExceeded'
  | 'UncertainSensorNotAccurate'
  | 'UncertainLastUsableValue'
  | 'Bad'
  | 'BadCommunicationError'
  | 'BadNotConnected'
  | 'BadOutOfService'
  | 'BadDeviceFailure'
  | 'BadSensorFailure'
  | 'BadWaitingForInitialData';

export const REASON_STATUS: Readonly<Record<QualityReason, OpcuaStatusName>> = {
  // The transaction failed: nothing was heard from the device.
  timeout: 'BadCommunicationError',
  crc: 'BadCommunicationError',
  framing: 'BadCommunicationError',
  // The device answered with a Modbus exception: it is there, but refuses.
  exception: 'BadDeviceFailure',
  // The serial port (or device server) is gone.
  'port-down': 'BadNotConnected',
  // The gateway took a dead device off the line until its back-off ends.
  'breaker-open': 'BadOutOfService',
  // The device says its sensor cannot be trusted.
  'sensor-fault': 'BadSensorFailure',
  'sensor-lost': 'BadSensorFailure',
  'data-error': 'BadDeviceFailure',
  'needs-calibration': 'UncertainSensorNotAccurate',
  'warm-up': 'BadWaitingForInitialData',
  // Above full scale: a value that is at least this high — an alarm, never a fault to ignore.
  'over-range': 'UncertainEngineeringUnitsExceeded',
  // The value itself is implausible.
  sentinel: 'BadSensorFailure',
  'out-of-range': 'BadSensorFailure',
  stuck: 'UncertainLastUsableValue',
};

/** Status of a reading as it was taken. */
export function readingStatus(quality: Quality, reason: QualityReason | undefined): OpcuaStatusName {
  if (quality === 'good') return 'Good';
  if (reason !== undefined) {
    const mapped = REASON_STATUS[reason];
    // A reason that only makes a reading uncertain stays Bad when the driver judged the reading bad.
    if (quality === 'bad' && mapped.startsWith('Uncertain')) return reason === 'stuck' ? 'BadSensorFailure' : 'Bad';
    return mapped;
  }
  return quality === 'uncertain' ? 'Uncertain' : 'Bad';
}

/**
 * A channel whose readings stopped (the alarm engine calls it silent) keeps its last value but not its status:
 * that is a lost communication, whatever the last reading said.
 */
export const SILENT_STATUS: OpcuaStatusName = 'BadCommunicationError';
