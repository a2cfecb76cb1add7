import { EventEmitter } from 'node:events';

import { PoolMetrics, PoolUnavailableError } from '@nest-pools/core';
import type { mongo } from 'mongoose';
import { Registry } from 'prom-client';

import type { MongoPoolConfig } from './config/index.js';
import { MongoPoolBreaker } from './mongo-pool.breaker.js';

const PRIMARY = '127.0.0.1:27017';
const SECONDARY_A = '127.0.0.1:27018';
const SECONDARY_B = '127.0.0.1:27019';

/** The driver's monitoring events the breaker listens to, emitted in the driver's shapes. */
class FakeClient extends EventEmitter {
  topology(servers: Record<string, string>): void {
    this.emit('topologyDescriptionChanged', {
      newDescription: {
        servers: new Map(Object.entries(servers).map(([address, type]) => [address, { type }])),
      },
    });
  }
  heartbeatFailed(address: string): void {
    this.emit('serverHeartbeatFailed', { connectionId: address });
  }
  heartbeatSucceeded(address: string): void {
    this.emit('serverHeartbeatSucceeded', { connectionId: address });
  }
  poolCleared(address: string): void {
    this.emit('connectionPoolCleared', { address });
  }
}

describe('MongoPoolBreaker', () => {
  const setup = () => {
    const config = {
      name: 'main',
      breakerEnabled: true,
      breakerFailures: 3,
      breakerHalfOpenMS: 60_000,
    } as MongoPoolConfig;
    const circuit = new MongoPoolBreaker(config, new PoolMetrics(new Registry()));
    const client = new FakeClient();
    circuit.attach(client as unknown as mongo.MongoClient);
    return { circuit, client };
  };

  it('a standalone: failed heartbeats and cleared pools open the circuit', () => {
    const { circuit, client } = setup();
    client.topology({ [PRIMARY]: 'Standalone' });
    client.heartbeatFailed(PRIMARY);
    client.poolCleared(PRIMARY);
    expect(circuit.breaker.state).toBe('closed');
    client.heartbeatFailed(PRIMARY);
    expect(circuit.breaker.state).toBe('open');
    expect(() => circuit.breaker.admit()).toThrow(PoolUnavailableError);
  });

  it('a killed primary while secondaries answer: neither its heartbeats, its pool nor failed operations open the circuit', () => {
    const { circuit, client } = setup();
    client.topology({
      [PRIMARY]: 'RSPrimary',
      [SECONDARY_A]: 'RSSecondary',
      [SECONDARY_B]: 'RSSecondary',
    });
    // The primary's own failures arrive before the driver marks it Unknown.
    client.poolCleared(PRIMARY);
    client.heartbeatFailed(PRIMARY);
    client.topology({
      [PRIMARY]: 'Unknown',
      [SECONDARY_A]: 'RSSecondary',
      [SECONDARY_B]: 'RSSecondary',
    });
    for (let i = 0; i < 10; i += 1) {
      client.heartbeatFailed(PRIMARY);
      circuit.failure(); // an in-flight write's network error, a health ping that found no primary
    }
    expect(circuit.breaker.state).toBe('closed');
  });

  it('a replica set with every member unreachable: failures count again', () => {
    const { circuit, client } = setup();
    client.topology({
      [PRIMARY]: 'Unknown',
      [SECONDARY_A]: 'RSSecondary',
      [SECONDARY_B]: 'Unknown',
    });
    // The last reachable member's own failure counts: no other server answers.
    client.heartbeatFailed(SECONDARY_A);
    client.topology({ [PRIMARY]: 'Unknown', [SECONDARY_A]: 'Unknown', [SECONDARY_B]: 'Unknown' });
    client.heartbeatFailed(PRIMARY);
    expect(circuit.breaker.state).toBe('closed');
    circuit.failure();
    expect(circuit.breaker.state).toBe('open');
  });

  it('any successful heartbeat closes an open circuit at once', () => {
    const { circuit, client } = setup();
    client.topology({ [PRIMARY]: 'Unknown', [SECONDARY_A]: 'Unknown' });
    for (let i = 0; i < 3; i += 1) client.heartbeatFailed(PRIMARY);
    expect(circuit.breaker.state).toBe('open');
    client.heartbeatSucceeded(SECONDARY_A);
    expect(circuit.breaker.state).toBe('closed');
  });
});
