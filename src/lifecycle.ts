import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * What happens to chests when the process ends: temporary directories are removed, and chests with
 * a path that were never closed are flushed, as the original chest does when it is garbage collected.
 *
 * A chest with a path is held here until it is closed, so that it is flushed at exit even when
 * nothing else refers to it any more: a chest that V8 collected first would take its unwritten
 * values with it (a `Chest` made and filled at a module's top level, never referred to again, can be
 * collected before the process exits). A temporary chest is only referred to weakly: it is removed
 * at exit anyway, and a dropped one may be collected.
 */

interface Closable {
  close(): void;
  readonly path: string;
}

const temporaries = new Set<string>();
/** Chests to close at exit: strong references for those with a path, weak ones for temporary chests. */
const open = new Set<Closable | WeakRef<Closable>>();
const refs = new WeakMap<Closable, Closable | WeakRef<Closable>>();
let hooked = false;

/** Creates a private temporary directory for a chest, removed at exit unless forgotten first. */
export function makeTemporaryDir(): string {
  // mkdtemp creates the directory with mode 0700: readable by this user only.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chest-'));
  temporaries.add(dir);
  hook();
  return dir;
}

export function forgetTemporary(dir: string): void {
  temporaries.delete(dir);
}

export function trackOpen(chest: Closable, temporary: boolean): void {
  const ref = temporary ? new WeakRef(chest) : chest;
  refs.set(chest, ref);
  open.add(ref);
  hook();
}

export function untrackOpen(chest: Closable): void {
  const ref = refs.get(chest);
  if (ref !== undefined) open.delete(ref);
  refs.delete(chest);
}

function hook(): void {
  if (hooked) return;
  hooked = true;
  // First in line: lmdb-js releases its environments in an exit listener of its own, and a chest
  // flushed after that would touch freed memory.
  process.prependOnceListener('exit', onExit);
}

function onExit(): void {
  for (const ref of open) {
    const chest = ref instanceof WeakRef ? ref.deref() : ref;
    if (chest === undefined) continue;
    try {
      chest.close();
    } catch (error) {
      // Nothing can be thrown from here: say it, so the loss is not silent.
      console.error(`chest: could not close ${chest.path} at exit:`, error);
    }
  }
  for (const dir of temporaries) fs.rmSync(dir, { recursive: true, force: true });
}
