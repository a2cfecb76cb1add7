import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  makeTestCertificates,
  MongoWireServer,
  startMongoReplicaSet,
  type TestCertificates,
  waitFor,
} from '@nest-pools/testing';

import { bootPool, healthStatus, type PoolApp, skipReason } from '../support/mongo.js';

/**
 * MongoPoolModule over TLS against the wire server listening with a certificate of a private
 * CA (made with openssl): a real handshake with verification on. Needs the wire server (its
 * certificate is made here), so it skips with MONGODB_TEST_URL.
 */
describe('MongoPoolModule over TLS (wire server with a private CA)', () => {
  let dir: string;
  let certs: TestCertificates;
  let tls: { key: Buffer; cert: Buffer };
  let booted: PoolApp | undefined;
  const external = Boolean(process.env.MONGODB_TEST_URL?.trim());

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nest-pools-mongo-tls-'));
    certs = await makeTestCertificates(dir);
    tls = { key: readFileSync(certs.key), cert: readFileSync(certs.cert) };
  });
  afterEach(async () => {
    await booted?.close();
    booted = undefined;
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const options = { minPoolSize: 0, healthTimeoutMS: 1000, serverSelectionTimeoutMS: 2000 };

  it('connects with tls=true&tlsCAFile= and works (standalone)', async () => {
    if (external) return skipReason('the TLS suite needs the wire server (MONGODB_TEST_URL set)');
    const server = await MongoWireServer.create({ tls });
    try {
      const url = `mongodb://127.0.0.1:${server.port}/np_tls?directConnection=true&tls=true&tlsCAFile=${encodeURIComponent(certs.ca)}`;
      booted = await bootPool({ url, ...options });
      const app = booted;
      await waitFor(async () => (await healthStatus(app.health)).status === 'up', {
        timeoutMs: 10_000,
        description: 'pool healthy over TLS',
      });
      const coll = app.pool.connection.db!.collection('t');
      await coll.insertOne({ secure: true });
      expect(await coll.countDocuments()).toBe(1);
    } finally {
      await booted?.close();
      booted = undefined;
      await server.stop();
    }
  });

  it('refuses a server whose certificate no trusted CA signed (verification on)', async () => {
    if (external) return skipReason('the TLS suite needs the wire server (MONGODB_TEST_URL set)');
    const server = await MongoWireServer.create({ tls });
    try {
      const url = `mongodb://127.0.0.1:${server.port}/np_tls?directConnection=true&tls=true&tlsCAFile=${encodeURIComponent(certs.otherCa)}`;
      booted = await bootPool({ url, ...options });
      const app = booted;
      const health = await waitFor(
        async () => {
          const h = await healthStatus(app.health);
          return h.status === 'down' && /certificate/i.test(h.message ?? '') ? h : undefined;
        },
        { timeoutMs: 10_000, description: 'health down naming the certificate' },
      );
      expect(health.state).toBe('connecting');
      expect(server.commandsSeen.insert).toBeUndefined();
    } finally {
      await booted?.close();
      booted = undefined;
      await server.stop();
    }
  });

  it('refuses tlsInsecure at startup', async () => {
    await expect(
      bootPool({ url: 'mongodb://127.0.0.1:1/np_tls?tls=true&tlsInsecure=true', ...options }),
    ).rejects.toThrow(/tlsInsecure/);
  });

  it('connects to a TLS replica set with replicaSet=&tls=true&tlsCAFile=', async () => {
    if (external) return skipReason('the TLS suite needs the wire server (MONGODB_TEST_URL set)');
    const rs = await startMongoReplicaSet({ members: 3, name: 'rstls', wire: { tls } });
    try {
      booted = await bootPool({
        url: `${rs.uri('np_tls')}&tls=true&tlsCAFile=${encodeURIComponent(certs.ca)}`,
        ...options,
      });
      const app = booted;
      await waitFor(async () => (await healthStatus(app.health)).status === 'up', {
        timeoutMs: 10_000,
        description: 'replica-set pool healthy over TLS',
      });
      expect(await healthStatus(app.health)).toMatchObject({
        topologyType: 'ReplicaSetWithPrimary',
        primary: rs.hosts[0],
      });
    } finally {
      await booted?.close();
      booted = undefined;
      await rs.stop();
    }
  });
});
