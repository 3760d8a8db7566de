#!/usr/bin/env node
/** The `chest` command. */
import { run } from './program.js';

// An early exit of `chest export | head` is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

process.exitCode = await run(process.argv.slice(2));
