// `npm run mongo:dev`: the script builds libs/testing and runs the compiled entry point; this
// suite does the same two steps, then drives the process like a developer would.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';

import { getFreePort, waitFor } from '@nest-pools/testing';
import { MongoClient } from 'mongodb';

import { buildTestingLib } from './build-testing-lib.js';

describe('npm run mongo:dev', () => {
  let child: ChildProcess | undefined;
  let output = '';

  beforeAll(() => {
    buildTestingLib();
  }, 60_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  });

  it('serves on the given port, warns that it is not a database, and stops on SIGTERM', async () => {
    const port = await getFreePort();
    const proc = spawn(
      process.execPath,
      ['libs/testing/dist/bin/mongo-dev.js', '--port', String(port)],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child = proc;
    proc.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    proc.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitFor(() => output.includes('listening'), {
      timeoutMs: 10_000,
      description: 'mongo:dev listening',
    });
    expect(output).toMatch(/not a database/);
    expect(output).toContain(`mongodb://127.0.0.1:${port}`);

    const client = new MongoClient(`mongodb://127.0.0.1:${port}/dev`, {
      serverSelectionTimeoutMS: 1500,
    });
    try {
      await client.db('dev').collection('notes').insertOne({ text: 'hello' });
      expect(await client.db('dev').collection('notes').countDocuments()).toBe(1);
    } finally {
      await client.close();
    }

    const exited = once(proc, 'exit');
    proc.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    expect(code).toBe(0);
    expect(output).toMatch(/stopped/);
  });

  it('rejects an invalid port with a usage message and exit code 2', () => {
    const run = spawnSync(
      process.execPath,
      ['libs/testing/dist/bin/mongo-dev.js', '--port', 'abc'],
      {
        encoding: 'utf8',
        timeout: 10_000,
      },
    );
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/--port must be an integer/);
    expect(run.stderr).toMatch(/usage: npm run mongo:dev/);
  });
});
