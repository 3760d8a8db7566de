/** The `chest` command, run as a real process on chests made with the library. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';
import { Chest, fromFunctions, type Key } from '../../src/index.js';
import { freshPath } from '../helpers.js';
import { chest as run } from './run.js';

/** A failure is one line on stderr, never a stack trace. */
function expectOneLine(stderr: string): void {
  expect(stderr.trim().split('\n')).toHaveLength(1);
  expect(stderr).not.toMatch(/^\s+at /m);
}

function sample(dir: string): void {
  using chest = new Chest<Key, unknown>({ path: dir, inlineThreshold: 1024 });
  chest.set(['user', 2], { name: 'Grace' });
  chest.set(['user', 1], { name: 'Ada' });
  chest.set(['user', 10], { name: 'Barbara' });
  chest.set('weights', new Float64Array([1.5, -2, Math.PI]));
  chest.set('big', new Float64Array(1000).fill(7)); // 8 kB: a file of its own
  chest.set(12n, new Map([['a', 1]]));
  chest.set(new Date(0), 'epoch');
}

describe('chest CLI', () => {
  it('has help for every command, and lists the exit codes', () => {
    const main = run(['--help']);
    expect(main.code).toBe(0);
    expect(main.stdout).toMatch(/Exit codes:/);
    const commands = buildProgram().commands;
    expect(commands.map((c) => c.name())).toEqual(
      expect.arrayContaining(['info', 'ls', 'get', 'set', 'rm', 'export', 'import']),
    );
    for (const command of commands) {
      expect(main.stdout).toContain(command.name());
      expect(command.description()).not.toBe('');
      expect(command.helpInformation()).toContain(`Usage: chest ${command.name()}`);
      // --json belongs to the program, and changes the output of every command.
      expect(command.helpInformation()).toMatch(/Global Options:[^]*--json/);
    }
    // One command's help from the real process too.
    const ls = run(['ls', '--help']);
    expect(ls.code).toBe(0);
    expect(ls.stdout).toContain('--prefix <json>');
  });

  it("a chest written with the program's own serializer: what needs no value works, a value asked for names the serializer", () => {
    const dir = freshPath();
    {
      const serializer = fromFunctions(
        JSON.stringify,
        (text: string) => JSON.parse(text) as unknown,
        'app-json-v1',
      );
      using chest = new Chest<Key, unknown>({ path: dir, serializer });
      chest.set('config', { debug: true });
      chest.set('weights', new Float64Array([1.5, -2]));
    }
    const ls = run(['ls', dir]);
    expect(ls).toMatchObject({ code: 0, stderr: '' });
    expect(ls.stdout.split('\n').filter(Boolean)).toEqual(['"config"', '"weights"']);
    expect(run(['verify', dir])).toMatchObject({ code: 0, stderr: '' });
    expect(run(['compact', dir])).toMatchObject({ code: 0, stderr: '' });
    expect(new Float64Array(new Uint8Array(run(['get', dir, '"weights"', '--raw']).bytes).buffer)).toEqual(
      new Float64Array([1.5, -2]),
    );
    for (const args of [
      ['get', dir, '"config"'],
      ['export', dir],
    ]) {
      const failed = run(args);
      expect(failed.code).toBe(1);
      expectOneLine(failed.stderr);
      expect(failed.stderr).toMatch(
        /written with the serializer app-json-v1, which only the program that wrote them has/,
      );
    }
    expect(run(['rm', dir, '"config"'])).toMatchObject({ code: 0, stderr: '' });
  });

  it('info counts entries inline and in files', () => {
    const dir = freshPath();
    sample(dir);
    const info = run(['--json', 'info', dir]);
    expect(info.code).toBe(0);
    const parsed = JSON.parse(info.stdout) as {
      entries: number;
      inline: { entries: number };
      files: { entries: number; bytes: number };
      serializer: string;
    };
    expect(parsed.entries).toBe(7);
    expect(parsed.files).toEqual({ entries: 1, bytes: 8000 });
    expect(parsed.inline.entries).toBe(6);
    expect(parsed.serializer).toBe('structured');
    const pretty = run(['info', dir]);
    expect(pretty.stdout).toMatch(/^entries\s+7$/m);
    expect(pretty.stderr).toBe(''); // no progress bar when stderr is piped
  });

  it('ls lists keys in key order, with prefix, bounds and limit', () => {
    const dir = freshPath();
    sample(dir);
    const all = run(['ls', dir]);
    expect(all.code).toBe(0);
    expect(all.stdout.trim().split('\n')).toEqual([
      '{"$bigint":"12"}',
      '{"$date":"1970-01-01T00:00:00.000Z"}',
      '"big"',
      '"weights"',
      '["user",1]',
      '["user",2]',
      '["user",10]',
    ]);
    const users = run(['--json', 'ls', dir, '--prefix', '["user"]', '--start', '["user",2]', '--limit', '1']);
    expect(JSON.parse(users.stdout)).toEqual([['user', 2]]);
  });

  it('get prints values, --raw writes the bytes, --json an export line', () => {
    const dir = freshPath();
    sample(dir);
    const user = run(['get', dir, '["user",1]']);
    expect(user.code).toBe(0);
    expect(user.stdout).toContain("name: 'Ada'");
    const raw = run(['get', dir, '"weights"', '--raw']);
    expect(raw.code).toBe(0);
    expect(new Float64Array(new Uint8Array(raw.bytes).buffer)).toEqual(new Float64Array([1.5, -2, Math.PI]));
    const json = run(['--json', 'get', dir, '{"$bigint":"12"}']);
    expect(JSON.parse(json.stdout)).toMatchObject({ key: { $bigint: '12' }, type: 'v8' });
    const notBinary = run(['get', dir, '["user",1]', '--raw']);
    expect(notBinary.code).toBe(1);
    expectOneLine(notBinary.stderr);
  });

  it('set and rm change the chest; a missing key exits with 4', () => {
    const dir = freshPath();
    const noChest = run(['set', dir, '"a"', '{"x":[1,2]}']);
    expect(noChest.code).toBe(3);
    expect(noChest.stderr).toBe(`chest: no such path: ${dir} (--create makes a new chest there)\n`);
    expect(run(['set', dir, '"a"', '{"x":[1,2]}', '--create']).code).toBe(0);
    expect(run(['set', dir, '["note",1]', 'hello world', '--text']).code).toBe(0);
    {
      using chest = new Chest<Key, unknown>({ path: dir, readOnly: true });
      expect(chest.get('a')).toEqual({ x: [1, 2] });
      expect(chest.get(['note', 1])).toBe('hello world');
    }
    const rm = run(['--json', 'rm', dir, '"a"', '"nope"']);
    expect(rm.code).toBe(4);
    expect(JSON.parse(rm.stdout)).toEqual({ removed: ['a'], missing: ['"nope"'] });
    expectOneLine(rm.stderr);
    expect(run(['get', dir, '"a"']).code).toBe(4);
  });

  it('export and import round-trip JSON, binary and structured values', () => {
    const dir = freshPath();
    sample(dir);
    const exported = run(['export', dir]);
    expect(exported.code).toBe(0);
    expect(exported.stderr).toBe('');
    const lines = exported.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(7);
    expect(lines).toContainEqual({ key: ['user', 1], value: { name: 'Ada' } });
    expect(lines.find((l) => l.key === 'weights')).toMatchObject({ type: 'Float64Array' });
    const file = path.join(path.dirname(dir), 'export.ndjson');
    fs.writeFileSync(file, exported.stdout);
    const copy = freshPath();
    expect(run(['import', copy, file]).code).toBe(0);
    const piped = freshPath();
    expect(run(['import', piped], exported.stdout).code).toBe(0);
    using original = new Chest<Key, unknown>({ path: dir, readOnly: true });
    for (const target of [copy, piped]) {
      using imported = new Chest<Key, unknown>({ path: target, readOnly: true });
      expect([...imported.entries({})]).toEqual([...original.entries({})]);
      expect(imported.get('weights')).toBeInstanceOf(Float64Array);
    }
  });

  it('import names the line it stopped at and what it kept; --dry-run lists every bad line, writing nothing', () => {
    const input = [
      '{"key":"a","value":1}',
      '',
      '{"key":"b","value":2}',
      // Buffer.from would skip the "%" and read 11 bytes: a length problem, not the real one.
      '{"key":"c","type":"Float64Array","base64":"AAAAAAAA%AAAAAAA"}',
      '{"key":"d","value":4}',
      '{"key":"e","type":"Float64Array","base64":"AAAAAAAAAA=="}',
    ].join('\n');
    const dir = freshPath();
    const stopped = run(['import', dir], input);
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toBe(
      'chest: import stopped at line 4: invalid base64: "%" at character 9; the 2 entries before it are ' +
        'imported and stay in the chest, the rest is not (--dry-run lists every bad line)\n',
    );
    {
      using chest = new Chest<Key, unknown>({ path: dir, readOnly: true });
      expect([...chest.entries({})]).toEqual([
        ['a', 1],
        ['b', 2],
      ]);
    }
    const json = run(['--json', 'import', freshPath()], input);
    expect(JSON.parse(json.stderr)).toMatchObject({ exitCode: 1, line: 4, imported: 2 });
    expect(run(['import', freshPath()], 'x\n').stderr).toMatch(/line 1: not JSON .*; nothing was imported/);

    const untouched = freshPath();
    const dry = run(['import', '--dry-run', untouched], input);
    expect(dry.code).toBe(1);
    expect(dry.stdout).toBe(
      'line 4: invalid base64: "%" at character 9\n' +
        'line 6: 7 bytes are not a whole number of Float64Array elements (8 bytes each)\n' +
        '5 lines checked, 2 bad\n',
    );
    expectOneLine(dry.stderr);
    expect(fs.existsSync(untouched)).toBe(false);
    const sound = run(['--json', 'import', '--dry-run', untouched], '{"key":"a","value":1}\n');
    expect(sound.code).toBe(0);
    expect(JSON.parse(sound.stdout)).toEqual({ ok: true, checked: 1, bad: [] });
    expect(fs.existsSync(untouched)).toBe(false);
    expect(run(['import', untouched], '{"key":"a","value":1}\n').stdout).toBe('1 entry imported\n');
    // What the import itself would refuse, the dry run refuses too.
    const notChest = path.join(path.dirname(untouched), 'file.txt');
    fs.writeFileSync(notChest, 'x');
    expect(run(['import', '--dry-run', notChest], '{"key":"a","value":1}\n').code).toBe(3);
  });

  it('verify finds damage and orphans (exit 1), repair removes them, compact reclaims the index', () => {
    const dir = freshPath();
    sample(dir);
    fs.rmSync(path.join(dir, 'big')); // the value file of 'big'
    fs.writeFileSync(path.join(dir, 'stray'), 'no entry refers to this');

    const damaged = run(['--json', 'verify', dir]);
    expect(damaged.code).toBe(1);
    const report = JSON.parse(damaged.stdout) as {
      ok: boolean;
      checked: number;
      damaged: { key: unknown; code: string; file?: string }[];
      orphanFiles: string[];
    };
    expect(report.ok).toBe(false);
    expect(report.checked).toBe(7);
    expect(report.damaged).toEqual([
      expect.objectContaining({ key: 'big', code: 'CHEST_MISSING_FILE', file: 'big' }),
    ]);
    expect(report.orphanFiles).toEqual(['stray']);
    expectOneLine(damaged.stderr);

    const repaired = run(['repair', dir]);
    expect(repaired.code).toBe(0);
    expect(repaired.stdout).toContain('dropped "big": CHEST_MISSING_FILE');
    expect(repaired.stdout).toContain('removed file stray');

    const sound = run(['verify', dir]);
    expect(sound.code).toBe(0);
    expect(sound.stdout).toContain('6 entries checked, 0 damaged, 0 orphan files');
    // One of a thing is named in the singular.
    expect(repaired.stdout).toMatch(/\b1 entry dropped, 1 file removed\n/);

    const compacted = run(['--json', 'compact', dir]);
    expect(compacted.code).toBe(0);
    const sizes = JSON.parse(compacted.stdout) as { bytesBefore: number; bytesAfter: number };
    expect(sizes.bytesAfter).toBeGreaterThan(0);
    expect(sizes.bytesAfter).toBeLessThanOrEqual(sizes.bytesBefore);
    using chest = new Chest<Key, unknown>({ path: dir, readOnly: true });
    expect(chest.size).toBe(6);
    expect(chest.get(['user', 1])).toEqual({ name: 'Ada' });
    expect(run(['verify', path.join(dir, 'nope')]).code).toBe(3);
  });

  it('a folder where a value file should be: get names the key and the path, verify and repair say why', () => {
    const dir = freshPath();
    sample(dir);
    const file = path.join(dir, 'big');
    fs.rmSync(file);
    fs.mkdirSync(file);
    const why = `the value file ${file} is not a regular file but a folder`;
    const get = run(['get', dir, '"big"']);
    expect(get.code).toBe(1);
    expect(get.stderr).toBe(`chest: CHEST_CORRUPT: ${why} (key 'big')\n`);
    const verify = run(['verify', dir]);
    expect(verify.code).toBe(1);
    expect(verify.stdout).toContain(`damaged "big": CHEST_CORRUPT: ${why}\n`);
    expect(run(['repair', dir]).stdout).toContain(`dropped "big": CHEST_CORRUPT: ${why}\n`);
  });

  it('bad input gets one line and a documented exit code', () => {
    const dir = freshPath();
    sample(dir);
    const notChest = path.dirname(dir);
    fs.writeFileSync(path.join(notChest, 'file.txt'), 'x');
    const cases: [string[], number, RegExp][] = [
      [['info', path.join(notChest, 'missing')], 3, /no such path/],
      [['ls', notChest], 3, /not a chest/],
      [['get', dir, 'user'], 2, /not valid JSON/],
      [['get', dir, '{"a":1}'], 2, /not a key/],
      [['ls', dir, '--limit', '-1'], 2, /whole number/],
      [['ls', dir, '--bogus'], 2, /unknown option/],
      [['frobnicate'], 2, /unknown command/],
      [['inf', dir], 2, /unknown command 'inf' \(Did you mean info\?\)/],
      [['get', dir], 2, /missing required argument/],
      [['import', freshPath()], 0, /^$/],
    ];
    for (const [args, code, message] of cases) {
      const result = run(args, '');
      expect(result.code, args.join(' ')).toBe(code);
      if (code !== 0) {
        expect(result.stderr).toMatch(message);
        expectOneLine(result.stderr);
      }
    }
    const json = run(['--json', 'get', dir, '"nope"']);
    expect(json.code).toBe(4);
    expect(JSON.parse(json.stderr)).toEqual({ error: 'no such key: "nope"', exitCode: 4 });
    // Usage errors found by the parser are JSON lines too, wherever --json stands.
    for (const args of [
      ['--json', 'ls'],
      ['ls', dir, '--bogus', '--json'],
    ]) {
      const usage = run(args);
      expect(usage.code, args.join(' ')).toBe(2);
      expect(JSON.parse(usage.stderr), args.join(' ')).toEqual({
        error: expect.stringMatching(
          /^(missing required argument 'path'|unknown option '--bogus') \(see chest --help\)$/,
        ),
        exitCode: 2,
      });
    }
    const badLine = run(['import', freshPath()], '{"key":"a","value":1}\nnot json\n');
    expect(badLine.code).toBe(1);
    expect(badLine.stderr).toMatch(/line 2/);
    expectOneLine(badLine.stderr);
  });

  // util-linux's `script` gives the process a terminal, where the bar is drawn on stderr.
  const hasScript = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;
  it.skipIf(!hasScript)('draws a progress bar when stderr is a terminal', () => {
    const dir = freshPath();
    sample(dir);
    const out = path.join(path.dirname(dir), 'export.ndjson');
    const command = [process.execPath, '--import', 'tsx', path.resolve('src/cli/main.ts'), 'export', dir]
      .map((arg) => `'${arg}'`)
      .join(' ');
    // stdout to a file, stderr on the terminal: the bar is drawn there, and the file has only the export.
    const result = spawnSync('script', ['-qec', `${command} > '${out}'`, '/dev/null'], { encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/\rexporting \[[#-]+\] \d+% \d+\/7/);
    const lines = fs.readFileSync(out, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(7);
    expect(lines.every((line) => line.startsWith('{"key":'))).toBe(true);
  });
});
