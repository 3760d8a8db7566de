export const KiB = 1024;
export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Formats a byte count as MiB or GiB with a unit. */
export function fmtBytes(n: number): string {
  if (Math.abs(n) >= GiB) return (n / GiB).toFixed(2) + ' GiB';
  if (Math.abs(n) >= MiB) return (n / MiB).toFixed(1) + ' MiB';
  if (Math.abs(n) >= KiB) return (n / KiB).toFixed(1) + ' KiB';
  return String(Math.round(n)) + ' B';
}

/** Compact number for tables: 1.23M, 45.6k, 789, 0.123. */
export function fmtNum(n: number, digits = 3): string {
  const a = Math.abs(n);
  if (a >= 1e9) return (n / 1e9).toPrecision(digits) + 'G';
  if (a >= 1e6) return (n / 1e6).toPrecision(digits) + 'M';
  if (a >= 1e4) return (n / 1e3).toPrecision(digits) + 'k';
  if (a >= 100) return n.toFixed(0);
  if (a === 0) return '0';
  return n.toPrecision(digits);
}
