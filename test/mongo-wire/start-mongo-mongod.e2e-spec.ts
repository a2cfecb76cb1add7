// startMongo's second choice: a `mongod` binary that exists without downloading
// (MONGOMS_SYSTEM_BINARY) run through mongodb-memory-server. No real mongod can be installed on
// these machines, so the binary here is a small stand-in executable that behaves like one towards
// mongodb-memory-server (`--version`, `--port`/`--bind_ip`, the "Waiting for connections" log line,
// SIGINT) and serves the wire protocol with MongoWireServer. The suite checks the selection and the
// mongodb-memory-server plumbing; with a real binary in MONGOMS_SYSTEM_BINARY it runs that instead.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

import { startMongo } from '@nest-pools/testing';
import { MongoClient } from 'mongodb';

import { buildTestingLib } from './build-testing-lib.js';

describe('startMongo with a mongod binary available (MONGOMS_SYSTEM_BINARY)', () => {
  let dir: string;
  let binary: string;
  const previous = process.env.MONGOMS_SYSTEM_BINARY;

  beforeAll(() => {
    if (previous) {
      binary = previous;
      console.info(`using the real mongod from MONGOMS_SYSTEM_BINARY: ${previous}`);
      return;
    }
    buildTestingLib();
    dir = mkdtempSync(join(tmpdir(), 'fake-mongod-'));
    const serverModule = pathToFileURL(
      resolve('libs/testing/dist/mongo/mongo-wire-server.js'),
    ).href;
    const script = join(dir, 'fake-mongod.mjs');
    writeFileSync(
      script,
      `import { MongoWireServer } from ${JSON.stringify(serverModule)};
const args = process.argv.slice(2);
const arg = (name) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
if (args.includes('--version')) {
  console.log('db version v8.2.6');
  process.exit(0);
}
const server = await MongoWireServer.create({ port: Number(arg('--port')), host: arg('--bind_ip') ?? '127.0.0.1' });
console.log(JSON.stringify({ msg: 'Waiting for connections', attr: { port: server.port } }));
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => server.stop().then(() => process.exit(0)));
}
`,
    );
    binary = join(dir, 'mongod');
    writeFileSync(
      binary,
      `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(script)} "$@"\n`,
    );
    chmodSync(binary, 0o755);
  }, 60_000);

  afterAll(() => {
    if (previous === undefined) delete process.env.MONGOMS_SYSTEM_BINARY;
    else process.env.MONGOMS_SYSTEM_BINARY = previous;
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('fails loudly when MONGOMS_SYSTEM_BINARY points to nothing', async () => {
    process.env.MONGOMS_SYSTEM_BINARY = join(tmpdir(), 'no-such-dir', 'mongod');
    const lines: string[] = [];
    await expect(startMongo({ env: {}, log: (l) => lines.push(l) })).rejects.toThrow(/no-such-dir/);
    expect(lines).toEqual([]);
  });

  it('runs the binary through mongodb-memory-server and reports kind "mongod"', async () => {
    process.env.MONGOMS_SYSTEM_BINARY = binary;
    const lines: string[] = [];
    const mongo = await startMongo({ env: {}, dbPrefix: 'mms', log: (l) => lines.push(l) });
    try {
      expect(mongo.kind).toBe('mongod');
      expect(mongo.wire).toBeUndefined();
      expect(lines).toEqual([expect.stringContaining(`MongoDB backend: mongod ${binary}`)]);
      expect(mongo.url).toContain(`/${mongo.dbName}`);
      const client = new MongoClient(mongo.url, { serverSelectionTimeoutMS: 2000 });
      try {
        await client.db().collection('x').insertOne({ via: 'mongodb-memory-server' });
        expect(await client.db().collection('x').countDocuments()).toBe(1);
        expect(client.db().databaseName).toBe(mongo.dbName);
      } finally {
        await client.close();
      }
    } finally {
      await mongo.stop();
    }
    const after = new MongoClient(mongo.url, { serverSelectionTimeoutMS: 300 });
    try {
      await expect(after.connect()).rejects.toThrow();
    } finally {
      await after.close();
    }
  });
});
