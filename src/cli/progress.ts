/**
 * A one-line progress bar on stderr, drawn only when stderr is a terminal, so piped or redirected
 * output stays clean. A few lines of our own: the bar needs no colours, multiple bars or ETA maths
 * that would justify a dependency.
 */
export interface Progress {
  /**
   * Sets how much is done; redrawn at most ten times a second. `detail` (shown after the counts) is
   * called only when the line is drawn, so it may be costly.
   */
  update(done: number, detail?: () => string): void;
  /** Clears the line. */
  finish(): void;
}

/** The stream a progress bar draws on: stderr, or a test's stand-in. */
export interface ProgressStream {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(text: string): boolean;
}

/** A progress that draws nothing: for output that shares the terminal with the bar. */
export const QUIET: Progress = { update: () => undefined, finish: () => undefined };
const INTERVAL_MS = 100;

export function progress(
  label: string,
  total: number | undefined,
  stream: ProgressStream = process.stderr,
): Progress {
  if (stream.isTTY !== true) return QUIET;
  let last = 0;
  let drawn = false;
  const draw = (done: number, detail: string): void => {
    // A terminal that does not say its width (columns 0) gets 80.
    const columns = stream.columns !== undefined && stream.columns > 0 ? stream.columns : 80;
    const width = Math.max(20, Math.min(columns, 140) - 1);
    let line: string;
    if (total === undefined || total <= 0) line = `${label} ${done.toLocaleString('en-US')}`;
    else {
      const fraction = Math.min(1, done / total);
      const counts = `${Math.floor(fraction * 100)}% ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')}`;
      const barWidth = Math.max(10, Math.min(40, width - label.length - counts.length - 4));
      const filled = Math.round(fraction * barWidth);
      line = `${label} [${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}] ${counts}`;
    }
    if (detail !== '') line += `  ${detail}`;
    stream.write(`\r${line.slice(0, width)}\u001b[K`);
    drawn = true;
  };
  return {
    update(done, detail) {
      const now = Date.now();
      if (now - last < INTERVAL_MS) return;
      last = now;
      draw(done, detail?.() ?? '');
    },
    finish() {
      if (drawn) stream.write('\r\u001b[K');
    },
  };
}
