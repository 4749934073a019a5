import type { PathSegment } from './config-error.js';
import type { GpioLineClaims } from './gpio-lines.js';
import { fieldsOf, has, isFields, listField, textField } from './lenient.js';
import type { GpioInputEntry, Reporter, SiteIndex } from './site-index.js';

/**
 * GPIO inputs are channels of the gateway itself: their ids share the channels' namespace (rules and topics
 * name them alike), and each one needs a line of its own.
 */
export function checkGpioInputs(data: unknown, index: SiteIndex, lines: GpioLineClaims, report: Reporter): void {
  listField(fieldsOf(data).gpio, 'inputs').forEach((raw, i) => {
    const at = (...rest: PathSegment[]): PathSegment[] => ['gpio', 'inputs', i, ...rest];
    if (!isFields(raw)) return;
    const id = textField(raw, 'id');
    const kind = textField(raw, 'kind') === 'counter' ? 'counter' : 'contact';
    if (id !== undefined) {
      const channel = index.channels.get(id);
      const input = index.gpioInputs.get(id);
      if (channel) {
        const hint = `channel at line ${report.lineOf(channel.path)}; ids are shared by channels and GPIO inputs`;
        report.error(at('id'), `"${id}" is already a channel id`, hint);
      } else if (input) {
        const hint = `first at line ${report.lineOf([...input.path, 'id'])}`;
        report.error(at('id'), `GPIO input id "${id}" is used twice`, hint);
      } else {
        const entry: GpioInputEntry = { id, path: at(), raw, kind };
        index.gpioInputs.set(id, entry);
      }
    }
    lines.claim(raw.line, id === undefined ? `gpio.inputs[${i}]` : `input "${id}"`, at('line'));
    if (kind === 'contact' && has(raw, 'perPulse')) {
      const message = 'perPulse is for counters; this input is a contact';
      report.error(at('perPulse'), message, 'set "kind: counter", or remove perPulse', 'key');
    }
  });
}
