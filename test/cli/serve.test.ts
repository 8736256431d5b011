// `attrlens serve` and the launcher's client: a command run through a server prints and writes
// exactly what it does locally, in the client's folder and with its exit code; the server
// survives failing commands and bad requests, refuses a second server, takes over a dead one's
// socket and removes its own when it stops.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { ProcessRun, runNode, tmpDir } from '../onnx/helpers';

const ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const SAMPLE = path.join(ROOT, 'samples', 'shapes');
const MODEL = path.join(SAMPLE, 'model.onnx');
const RED = path.join(SAMPLE, 'images', 'red-circle.png');

/** A running `attrlens serve` and everything it printed. */
interface Server {
  proc: ChildProcess;
  stdout: string;
  stderr: string;
  exited: Promise<number | null>;
}

function startServer(cache: string, ...args: string[]): Promise<Server> {
  const proc = spawn(process.execPath, [CLI, 'serve', ...args], { cwd: ROOT, env: { ...process.env, ATTRLENS_CACHE_DIR: cache, ATTRLENS_SERVE: undefined } });
  const s: Server = { proc, stdout: '', stderr: '', exited: new Promise((resolve) => proc.on('exit', (code) => resolve(code))) };
  proc.stderr!.on('data', (d: Buffer) => (s.stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${s.stderr}`)), 15_000);
    proc.stdout!.on('data', (d: Buffer) => {
      s.stdout += d.toString();
      if (s.stdout.includes('\n')) {
        clearTimeout(timer);
        resolve(s);
      }
    });
    void s.exited.then((code) => reject(new Error(`serve exited ${code}: ${s.stderr}`)));
  });
}

const served = (s: Server) => s.stderr.split('\n').filter((l) => /^attrlens serve: #\d+ /.test(l)).length;

/** The server logs a request just after its client has the exit code: wait for the line. */
async function servedCount(s: Server, n: number): Promise<number> {
  for (let i = 0; i < 100 && served(s) < n; i++) await new Promise((r) => setTimeout(r, 20));
  return served(s);
}

/** Timings differ from run to run; everything else must not. */
const stable = (out: string) => out.replace(/ in \d+\.\d+ s/g, ' in T s');

function client(cache: string, cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<ProcessRun> {
  return runNode([CLI, ...args], { cwd, env: { ...process.env, ATTRLENS_CACHE_DIR: cache, ATTRLENS_SERVE: undefined, NO_COLOR: '1', ...env }, timeoutMs: 30_000 });
}

/** One request line straight to the socket: the server's one-line answer. */
function raw(sock: string, data: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = net.createConnection(sock);
    let got = '';
    c.on('connect', () => c.write(data));
    c.on('data', (d) => (got += d.toString()));
    c.on('close', () => resolve(got));
    c.on('error', reject);
  });
}

before(() => {
  const b = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(b.status, 0, `build failed: ${b.stderr}`);
});

describe('attrlens serve', () => {
  const cache = tmpDir('serve');
  const sock = path.join(cache, 'serve.sock');
  const work = tmpDir('serve-work');
  let server: Server;
  const attribute = (out: string, model = MODEL, input = RED) => ['attribute', '--model', model, '--input', input, '--method', 'saliency', '--out', out];

  before(async () => {
    server = await startServer(cache, '--idle', '5');
  });
  after(async () => {
    server.proc.kill('SIGTERM');
    assert.equal(await server.exited, 0);
    assert.ok(!fs.existsSync(sock), 'SIGTERM removes the socket');
  });

  it('listens on a socket only this user may use, and says how to stop it', () => {
    assert.match(server.stdout, new RegExp(`listening on ${sock.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*stop`));
    assert.equal(server.stdout.split('\n').filter(Boolean).length, 1);
    assert.equal(fs.statSync(sock).mode & 0o777, 0o600);
    assert.ok(fs.statSync(sock).isSocket());
  });

  it('a served attribution writes the same bytes and prints the same as a local one', async () => {
    const out = path.join(work, 'F.npy');
    const viaServer = await client(cache, work, attribute(out));
    assert.equal(viaServer.code, 0, viaServer.stderr);
    assert.equal(await servedCount(server, 1), 1, 'the server ran it');
    const servedBytes = fs.readFileSync(out);
    fs.rmSync(out);
    const local = await client(cache, work, attribute(out), { ATTRLENS_SERVE: 'off' });
    assert.equal(local.code, 0, local.stderr);
    assert.deepEqual(fs.readFileSync(out), servedBytes);
    assert.equal(stable(viaServer.stdout), stable(local.stdout));
    assert.equal(viaServer.stderr, local.stderr);
    assert.equal(await servedCount(server, 2), 1, 'ATTRLENS_SERVE=off ran it locally');
  });

  it('resolves relative paths against the client folder', async () => {
    const sub = path.join(work, 'sub');
    fs.mkdirSync(sub, { recursive: true });
    const name = `rel-${process.pid}.npy`;
    const r = await client(cache, sub, attribute(name, path.relative(sub, MODEL), path.relative(sub, RED)));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await servedCount(server, 2), 2);
    assert.deepEqual(fs.readFileSync(path.join(sub, name)), fs.readFileSync(path.join(work, 'F.npy')));
    assert.ok(!fs.existsSync(path.join(ROOT, name)), 'not in the server folder');
  });

  it('a failing command gives the local error line and exit code, and the server serves on', async () => {
    const args = attribute(path.join(work, 'x.npy'), 'missing.onnx');
    const viaServer = await client(cache, work, args);
    const local = await client(cache, work, args, { ATTRLENS_SERVE: 'off' });
    assert.equal(viaServer.code, 2);
    assert.equal(local.code, 2);
    assert.match(viaServer.stderr, /^attrlens: error: cannot read model missing\.onnx: no such file; check the path\n$/);
    assert.equal(viaServer.stderr, local.stderr);
    assert.equal(viaServer.stdout, '');
    assert.equal(await servedCount(server, 3), 3);
    const again = await client(cache, work, attribute(path.join(work, 'again.npy')));
    assert.equal(again.code, 0, again.stderr);
    assert.equal(await servedCount(server, 4), 4);
  });

  it('another ATTRLENS_* environment runs locally', async () => {
    const r = await client(cache, work, attribute(path.join(work, 'env.npy')), { ATTRLENS_CACHE_MAX_MB: '999' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await servedCount(server, 5), 4);
  });

  it('malformed and oversized requests get one line and a closed connection', async () => {
    const bad = await raw(sock, 'hello\n');
    assert.equal(bad.split('\n').filter(Boolean).length, 1);
    assert.match(bad, /"reject".*malformed request/);
    const big = await raw(sock, 'x'.repeat((1 << 20) + 10));
    assert.match(big, /"reject".*request over/);
    const serveItself = await raw(sock, `${JSON.stringify({ v: 1, argv: ['serve'], cwd: work, env: {}, cache, bundle: '', stdoutTTY: false, stderrTTY: false, color: false })}\n`);
    assert.match(serveItself, /"reject".*'serve' is not served/);
    const r = await client(cache, work, attribute(path.join(work, 'after.npy')));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await servedCount(server, 5), 5);
  });

  it('a second server refuses to start', async () => {
    const r = await runNode([CLI, 'serve'], { cwd: work, env: { ...process.env, ATTRLENS_CACHE_DIR: cache }, timeoutMs: 15_000 });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^attrlens: error: an attrlens server already listens on .*serve\.sock.*\n$/);
    assert.ok(fs.existsSync(sock));
  });
});

it('attrlens serve takes over a dead server\'s socket and removes it after the idle time', async () => {
  const cache = tmpDir('serve-stale');
  const sock = path.join(cache, 'serve.sock');
  // a socket file whose process is gone: connections are refused
  spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(sock)}, () => process.kill(process.pid, 'SIGKILL'))`]);
  assert.ok(fs.statSync(sock).isSocket());
  const s = await startServer(cache, '--idle', '0.05');
  assert.match(s.stdout, /listening on/);
  const r = await client(cache, cache, ['attribute', '--model', MODEL, '--input', RED, '--method', 'saliency']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await servedCount(s, 1), 1);
  assert.equal(await s.exited, 0);
  assert.match(s.stderr, /idle .* stopping/);
  assert.ok(!fs.existsSync(sock), 'the socket is removed');
});
