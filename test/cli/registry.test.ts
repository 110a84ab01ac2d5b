/**
 * The command line loads only the module of the command it runs (src/cli/main.ts): its list of
 * which module adds which top-level commands must be what the modules register, or a command
 * would be missing (or unknown) when named.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { COMMAND_MODULES, modulesFor } from '../../src/cli/main.js';
import type { GlobalOptions } from '../../src/cli/io.js';

describe('the command registry', () => {
  it('names exactly the top-level commands each module registers, each once', async () => {
    const seen = new Set<string>();
    for (const entry of COMMAND_MODULES) {
      const program = new Command('callvault');
      (await entry.load()).register(program, () => ({}) as GlobalOptions);
      assert.deepEqual(
        program.commands.map((c) => c.name()),
        [...entry.names],
      );
      for (const name of entry.names) {
        assert.ok(!seen.has(name), `${name} is registered twice`);
        seen.add(name);
      }
    }
  });

  it('loads the named command only, and every command when none is named', () => {
    const names = (args: string[]) => modulesFor(args).flatMap((m) => m.names);
    const all = COMMAND_MODULES.flatMap((m) => m.names);
    assert.deepEqual(names(['import', 'dir']), ['import']);
    assert.deepEqual(names(['--data', 'import', 'audit', 'verify']), ['audit'], 'the value of --data is not a command');
    assert.deepEqual(names(['--json', 'hold', 'list']), ['retention', 'hold']);
    assert.deepEqual(names(['restore', '--help']), ['backup', 'restore']);
    for (const args of [[], ['--help'], ['help', 'import'], ['imprt'], ['--data', 'd'], ['--', 'import']]) assert.deepEqual(names(args), all, args.join(' '));
  });
});
