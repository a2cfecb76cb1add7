import {
  baseEnv,
  buildCodebot,
  type CodebotProcess,
  http,
  startCodebot,
  waitUntil,
} from './codebot-harness.js';

describe('CodeBot development mode with MONGODB_DEV_REPLSET=3 (built app as a child process)', () => {
  let app: CodebotProcess;

  beforeAll(async () => {
    await buildCodebot();
    app = await startCodebot(baseEnv({ MONGODB_DEV_REPLSET: '3' }), 90_000);
  }, 300_000);

  afterAll(async () => {
    if (app && app.child.exitCode === null) await app.stop('SIGKILL');
  });

  it('starts a three-member wire replica set, connects to it and is ready', async () => {
    const output = app.output();
    const url = /MongoDB wire-protocol replica set \(3 members\) at (\S+)/.exec(output)?.[1];
    expect(url).toMatch(
      /^mongodb:\/\/127\.0\.0\.1:\d+,127\.0\.0\.1:\d+,127\.0\.0\.1:\d+\/codebot\?replicaSet=codebot$/,
    );
    await waitUntil(
      async () => (await http(app.baseUrl, 'GET', '/health/ready')).status === 200,
      20_000,
    );
  });
});
