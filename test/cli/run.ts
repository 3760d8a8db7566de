import { spawnSync } from 'node:child_process';
import path from 'node:path';

const main = path.resolve('src/cli/main.ts');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  bytes: Buffer;
}

/** Runs the `chest` CLI from source as a real process, with stdout and stderr piped. */
export function chest(args: readonly string[], input?: string): Run {
  const result = spawnSync(process.execPath, ['--import', 'tsx', main, ...args], {
    input,
    maxBuffer: 256 * 2 ** 20,
  });
  return {
    code: result.status,
    stdout: result.stdout.toString('utf8'),
    stderr: result.stderr.toString('utf8'),
    bytes: result.stdout,
  };
}
