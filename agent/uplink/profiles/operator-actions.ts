/**
 * Platform command names → operator actions (agent/commands). Platforms whose commands are identifiers spell
 * set-baseline as set_baseline; either spelling is taken. A name that is not an action goes to the command gate
 * as it is, and the gate refuses it as unsupported.
 */
const ACTION_OF: ReadonlyMap<string, string> = new Map([
  ['acknowledge', 'acknowledge'],
  ['reset', 'reset'],
  ['silence', 'silence'],
  ['force', 'force'],
  ['release', 'release'],
  ['set_baseline', 'set-baseline'],
  ['set-baseline', 'set-baseline'],
]);

/** The operator action a platform command name stands for; `aliases` are a platform's own further spellings. */
export function operatorActionOf(name: string, aliases: ReadonlyMap<string, string> = new Map()): string {
  return aliases.get(name) ?? ACTION_OF.get(name) ?? name;
}

/** Actions that name a channel ("channel" in their parameters). */
export const CHANNEL_ACTIONS: ReadonlySet<string> = new Set(['acknowledge', 'reset', 'set-baseline']);
