import { describe, expect, it } from 'vitest';
import { progress } from '../../src/cli/progress.js';

function stream(isTTY: boolean): {
  isTTY: boolean;
  columns: number;
  text: string;
  write(t: string): boolean;
} {
  return {
    isTTY,
    columns: 60,
    text: '',
    write(t: string) {
      this.text += t;
      return true;
    },
  };
}

describe('progress bar', () => {
  it('draws a bar on a terminal and clears it when finished', () => {
    const tty = stream(true);
    const bar = progress('exporting', 200, tty);
    bar.update(50);
    expect(tty.text).toContain('25% 50/200');
    expect(tty.text).toMatch(/\[#+-+\]/);
    expect(tty.text.split('\r').every((line) => line.length <= 60 + 3)).toBe(true);
    bar.finish();
    expect(tty.text.endsWith('\r\u001b[K')).toBe(true);
  });

  it('stays quiet when the stream is not a terminal', () => {
    const piped = stream(false);
    const bar = progress('exporting', 200, piped);
    bar.update(50);
    bar.finish();
    expect(piped.text).toBe('');
  });
});
