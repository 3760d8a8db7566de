/**
 * Every command of the `chest` CLI. A command is a module with a `register(program)` function;
 * adding one is that module plus a line here.
 */
import type { Command } from 'commander';
import { register as exportCommand } from './export.js';
import { register as get } from './get.js';
import { register as importCommand } from './import.js';
import { register as info } from './info.js';
import { register as ls } from './ls.js';
import { register as rm } from './rm.js';
import { register as set } from './set.js';
import { register as verify } from './verify.js';
import { register as repair } from './repair.js';
import { register as compact } from './compact.js';

export const commands: readonly ((program: Command) => void)[] = [
  info,
  ls,
  get,
  set,
  rm,
  exportCommand,
  importCommand,
  verify,
  repair,
  compact,
];
