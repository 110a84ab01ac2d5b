import type { Command } from 'commander';
import type { GlobalOptions } from '../io.js';
export function register(_program: Command, _globals: () => GlobalOptions): void {}
