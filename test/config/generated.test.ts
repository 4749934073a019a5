import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { findPackageRoot, packageRoot } from '../../config/index.js';
import { absolutePath, generatedFiles } from '../../config/tools/generate.js';

describe('generated schema files and reference', () => {
  it.each(generatedFiles().map((f) => [f.path, f] as const))('%s is up to date (run: npm run build && npm run schema)', (_, file) => {
    expect(readFileSync(absolutePath(file), 'utf8')).toBe(file.content);
  });

  it('durations appear as text with their pattern, defaults as written', () => {
    const site = generatedFiles().find((f) => f.path === 'config/site.schema.json')!;
    const schema = JSON.parse(site.content);
    const interval = schema.properties.devices.items.properties.interval;
    expect(interval).toMatchObject({ type: 'string', default: '5s' });
    expect(new RegExp(interval.pattern).test('30m')).toBe(true);
    expect(new RegExp(interval.pattern).test('30')).toBe(false);
  });

  it('the reference lists every site field and every setting with its environment variable', () => {
    const doc = generatedFiles().find((f) => f.path === 'docs/configuration.md')!.content;
    for (const field of ['`devices[].channels[].register`', '`buses[].tcp.port`', '`registers[].compute`', '`registers[].params.<name>.default`']) {
      expect(doc).toContain(field);
    }
    expect(doc).toContain('| `mqtt.passwordFile` | `VIGIL_MQTT_PASSWORD_FILE` | unset |');
    expect(doc).toContain('# yaml-language-server: $schema=');
  });

  it('the examples point editors at the site schema that exists', () => {
    for (const name of ['septic-tank.yaml', 'dangerous-rock.yaml']) {
      const text = readFileSync(join(packageRoot(), 'config', 'examples', name), 'utf8');
      expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=../site.schema.json');
      expect(parse(text)).toBeTypeOf('object');
    }
  });

  it('the package root is found from the sources and from the compiled tree alike', () => {
    const root = packageRoot();
    expect(findPackageRoot(join(root, 'config', 'load'))).toBe(root);
    expect(findPackageRoot(join(root, 'dist', 'config', 'load'))).toBe(root);
    expect(findPackageRoot('/')).toBeUndefined();
  });
});
