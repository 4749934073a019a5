/**
 * String node ids of the gateway's address space (namespace 1), prefixed by kind: the site file's ids are
 * unique only within their kind (a device and an output may both be called "fan"), and one namespace holds
 * them all. Ids never contain "/" (config/schema/common.ts), so "/" separates the kind, the id and the child.
 *
 *   site/<site id>            site/<site id>/Gateway/<variable>, site/<site id>/Devices, site/<site id>/Outputs
 *   device/<device id>        device/<id>/Diagnostics/<counter>, device/<id>/ResetBaseline
 *   channel/<channel id>      channel/<id>/<property> (Fault, AlarmLevel …), channel/<id>/Alarm
 *   output/<output id>        output/<id>/<variable>, output/<id>/Force, output/<id>/Release
 */
export type NodeKind = 'site' | 'device' | 'channel' | 'output';

/** The `s=` part of a node id: `nodeIdOf('device', 'probe', 'Diagnostics')` → `s=device/probe/Diagnostics`. */
export function nodeIdOf(kind: NodeKind, id: string, ...children: string[]): string {
  return `s=${[kind, id, ...children].join('/')}`;
}
