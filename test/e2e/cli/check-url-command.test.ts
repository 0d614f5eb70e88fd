import { describe, expect, it } from 'vitest';

import { parseResolveOption } from '../../../src/cli/check-url-command.js';
import { runCli } from '../../helpers/run-cli.js';

// Every host below is answered with --resolve, so no test asks real DNS.
const FILES = ['--resolve', 'files.crm.example:93.184.216.34'];

describe('notes-migrator check-url (built binary)', () => {
  it('prints allowed and exits 0 when every URL passes', async () => {
    const run = await runCli([
      'check-url',
      '--allow-hosts',
      'files.crm.example,*.cdn.example',
      ...FILES,
      '--resolve',
      'img.cdn.example:2606:4700::1111',
      'https://files.crm.example/a.pdf',
      'https://img.cdn.example/p.png?X-Amz-Signature=secret',
    ]);
    expect(run.stdout).toBe(
      'allowed\thttps://files.crm.example/a.pdf\nallowed\thttps://img.cdn.example/p.png?X-Amz-Signature=[redacted]\n',
    );
    expect(run.code).toBe(0);
  });

  it('prints blocked <reason> per URL and exits 3 when any is blocked', async () => {
    const run = await runCli([
      'check-url',
      '--allow-hosts',
      'files.crm.example',
      ...FILES,
      'https://files.crm.example/a.pdf',
      'http://169.254.169.254/latest/meta-data/',
      'https://files.crm.example.evil.com/a.pdf',
      'https://files.crm.example@evil.com/',
      'https://2130706433/',
    ]);
    const verdicts = run.stdout
      .trim()
      .split('\n')
      .map((line) => line.split('\t')[0]);
    expect(verdicts).toEqual([
      'allowed',
      'blocked scheme-not-allowed',
      'blocked host-not-allowed',
      'blocked credentials-in-url',
      'blocked non-public-address',
    ]);
    expect(run.stdout).not.toContain('files.crm.example@'); // credentials are never echoed
    expect(run.code).toBe(3);
  });

  it('takes several --resolve addresses for one host (IPv6 included) and blocks when any is private', async () => {
    const run = await runCli([
      'check-url',
      '--allow-hosts',
      'files.crm.example',
      ...FILES,
      '--resolve',
      'files.crm.example:::ffff:10.0.0.7',
      'https://files.crm.example/a.pdf',
    ]);
    expect(run.stdout).toBe(
      'blocked non-public-address\thttps://files.crm.example/a.pdf\tfiles.crm.example resolves to 10.0.0.7, which is private\n',
    );
    expect(run.code).toBe(3);
  });

  it('uses ATTACHMENT_HOSTS from the environment when --allow-hosts is not given', async () => {
    const env = { ATTACHMENT_HOSTS: 'files.crm.example' };
    const ok = await runCli(['check-url', ...FILES, 'https://files.crm.example/a.pdf'], { env });
    expect(ok.code).toBe(0);
    const overridden = await runCli(
      ['check-url', '--allow-hosts', 'other.example', ...FILES, 'https://files.crm.example/a.pdf'],
      { env },
    );
    expect(overridden.stdout).toMatch(/^blocked host-not-allowed\t/);
    expect(overridden.code).toBe(3);
  });

  it('reads {"id","url"} lines with --jsonl and answers one {"id","verdict","reason"} line each, in order', async () => {
    const stdin = [
      JSON.stringify({ id: 'a1', url: 'https://files.crm.example/a.pdf' }),
      JSON.stringify({ id: 7, url: 'https://evil.example/x' }),
      'not json',
      JSON.stringify({ id: 'a3' }),
      '',
      JSON.stringify({ id: 'a4', url: 'https://files.crm.example:8443/a.pdf' }),
    ].join('\n');
    const run = await runCli(['check-url', '--jsonl', '--allow-hosts', 'files.crm.example', ...FILES], {
      stdin,
    });
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map(({ id, verdict, reason }) => ({ id, verdict, reason }))).toEqual([
      { id: 'a1', verdict: 'allowed', reason: null },
      { id: 7, verdict: 'blocked', reason: 'host-not-allowed' },
      { id: null, verdict: 'blocked', reason: 'invalid-input' },
      { id: 'a3', verdict: 'blocked', reason: 'invalid-input' },
      { id: 'a4', verdict: 'blocked', reason: 'port-not-allowed' },
    ]);
    expect(run.code).toBe(3);
  });

  it('blocks spellings of an allowed URL that are not canonical as non-canonical-url (#11)', async () => {
    const spellings = [
      'https://files.crm.example:443/a.pdf',
      'https://files.crm.example./a.pdf',
      'https://%66iles.crm.example/a.pdf',
      'https://ｆｉｌｅｓ.crm.example/a.pdf',
      'https:files.crm.example/a.pdf',
      'https://files.crm.example\\a.pdf',
      'https://files.crm.example/a.pdf\r\nX-Injected: 1',
    ];
    const args = [
      'check-url',
      '--allow-hosts',
      'files.crm.example',
      ...FILES,
      'https://files.crm.example/a.pdf',
    ];
    const run = await runCli([...args, ...spellings]);
    const verdicts = run.stdout
      .trim()
      .split('\n')
      .map((line) => line.split('\t'));
    expect(verdicts.map((v) => v[0])).toEqual([
      'allowed',
      ...spellings.map(() => 'blocked non-canonical-url'),
    ]);
    expect(verdicts.slice(1).map((v) => v[2])).toEqual([
      'explicit default port 443',
      'trailing dot in host "files.crm.example."',
      'percent-encoded host "%66iles.crm.example"',
      'host "ｆｉｌｅｓ.crm.example" reads as files.crm.example',
      'the scheme is not followed by exactly "//" and a host',
      'a backslash in the URL',
      'control character U+000d in the URL',
    ]);
    expect(run.code).toBe(3);

    const jsonl = await runCli(['check-url', '--jsonl', '--allow-hosts', 'files.crm.example', ...FILES], {
      stdin: `${JSON.stringify({ id: 'crlf', url: 'https://files.crm.example/a.pdf\r\nHost: evil.com' })}\n`,
    });
    expect(JSON.parse(jsonl.stdout)).toMatchObject({
      id: 'crlf',
      verdict: 'blocked',
      reason: 'non-canonical-url',
    });
  });

  it('exits 0 for --jsonl input that is all allowed', async () => {
    const stdin = `${JSON.stringify({ id: 1, url: 'https://files.crm.example/a.pdf' })}\n`;
    const run = await runCli(['check-url', '--jsonl', '--allow-hosts', 'files.crm.example', ...FILES], {
      stdin,
    });
    expect(run.stdout).toBe('{"id":1,"verdict":"allowed","reason":null}\n');
    expect(run.code).toBe(0);
  });

  it('lets loopback through only with the development switch, and says so on stderr', async () => {
    const args = ['check-url', '--allow-hosts', '127.0.0.1', 'http://127.0.0.1:8080/f.png'];
    const env = { ATTACHMENT_ALLOW_HTTP: 'true', ATTACHMENT_ALLOWED_PORTS: '8080' };
    expect((await runCli(args, { env })).code).toBe(3);
    const dev = await runCli(args, { env: { ...env, ATTACHMENT_ALLOW_PRIVATE_NETWORKS: 'true' } });
    expect(dev.stdout).toBe('allowed\thttp://127.0.0.1:8080/f.png\n');
    expect(dev.stderr).toMatch(/ATTACHMENT_ALLOW_PRIVATE_NETWORKS=true/);
    expect(dev.code).toBe(0);
  });

  it('refuses a malformed --resolve with exit 2, and no URL at all with exit 2', async () => {
    const bad = await runCli(['check-url', '--resolve', 'no-colon', 'https://x.example/']);
    expect(bad.stderr).toMatch(/--resolve expects HOST:ADDRESS/);
    expect(bad.code).toBe(2);
    expect((await runCli(['check-url'])).code).toBe(2);
  });

  it('refuses the development switch in production with the configuration exit code', async () => {
    const run = await runCli(['check-url', 'https://files.crm.example/a.pdf', ...FILES], {
      env: { NODE_ENV: 'production', ATTACHMENT_ALLOW_PRIVATE_NETWORKS: 'true' },
    });
    expect(run.stderr).toMatch(/ATTACHMENT_ALLOW_PRIVATE_NETWORKS: expected false when NODE_ENV=production/);
    expect(run.code).toBe(78);
  });
});

describe('--resolve parsing', () => {
  it.each([
    ['files.example:203.0.113.7', ['files.example', '203.0.113.7']],
    ['files.example:2606:4700::1', ['files.example', '2606:4700::1']],
    ['Files.Example.:[::1]', ['files.example', '::1']],
    ['no-colon', null],
    [':1.2.3.4', null],
    ['host:', null],
  ])('reads %s', (value, expected) => {
    expect(parseResolveOption(value)).toEqual(expected);
  });
});
