/** One line for an error: its message and those of its causes (LevelDB, for one, puts the reason there). */
export function describeError(e: unknown): string {
  const parts: string[] = [];
  let cur: unknown = e;
  for (let depth = 0; cur !== undefined && cur !== null && depth < 4; depth++) {
    const text = cur instanceof Error ? cur.message : typeof cur === 'string' ? cur : JSON.stringify(cur);
    const line = text.split('\n')[0] ?? text;
    if (line && !parts.includes(line)) parts.push(line);
    cur = cur instanceof Error ? cur.cause : undefined;
  }
  return parts.join(': ') || 'unknown error';
}
