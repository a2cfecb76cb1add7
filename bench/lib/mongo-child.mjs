// The wire-protocol MongoDB test server in its own process, so its work never shares an event
// loop with the app or the load generator. Driven over IPC by stack-child.mjs: `restart` stops it
// and starts it again on the same port (clients see their sockets close, as on a mongod restart).
import { MongoWireServer } from '@nest-pools/testing';

import { serveIpc } from './ipc.mjs';

const server = await MongoWireServer.create({ port: 0 });

serveIpc({
  commands: () => server.commandsSeen,
  async restart() {
    await server.stop();
    await server.start();
  },
  async stop() {
    await server.stop();
    setImmediate(() => process.exit(0));
  },
});
// The parent went away: never outlive it.
process.on('disconnect', () => void server.stop().then(() => process.exit(0)));
process.send({ ready: true, url: server.url });
