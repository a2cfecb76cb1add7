import { startMongo, startMongoReplicaSet, startRedis } from '@nest-pools/testing';
import { Logger } from '@nestjs/common';

import type { AppConfig } from '../config/app-config.js';
import type { EmbeddedService } from './embedded-services.js';
import { GitHubStandIn } from './github-stand-in.js';
import { TelegramStandIn } from './telegram-stand-in.js';

/** Token the local GitHub stand-in accepts when `GITHUB_TOKEN` is unset. */
export const DEVELOPMENT_GITHUB_TOKEN = 'development-github-token';

/**
 * `MONGODB_DEV_REPLSET=1|3`: the dev MongoDB is a wire-protocol replica set of that many members
 * instead of a standalone. Unset or empty: standalone. Anything else is a startup error.
 */
export function devReplSetMembers(env: NodeJS.ProcessEnv): number | undefined {
  const raw = env.MONGODB_DEV_REPLSET?.trim();
  if (raw === undefined || raw === '') return undefined;
  if (raw === '1' || raw === '3') return Number(raw);
  throw new Error(
    `MONGODB_DEV_REPLSET must be 1 or 3 (members of the dev replica set), got "${raw}"`,
  );
}

/**
 * Development mode: for every dependency whose URL is unset, starts a local one and points the
 * app at it — Redis (a real `redis-server` through the test kit's launcher), MongoDB (a real
 * `mongod` through mongodb-memory-server when one is installed, otherwise the test kit's MongoDB
 * wire-protocol server, which is for local development only), and stand-ins for the Telegram Bot
 * API and GitHub gists. Pool URLs go into `process.env`, where the pool modules read them.
 */
export async function startEmbeddedServices(
  env: NodeJS.ProcessEnv,
  config: AppConfig,
): Promise<{ services: EmbeddedService[]; config: AppConfig }> {
  const logger = new Logger('Embedded');
  const services: EmbeddedService[] = [];
  let next = config;
  try {
    if (!env.REDIS_URL && !env.REDIS_CLUSTER_NODES && !env.REDIS_SENTINELS) {
      const redis = await startRedis();
      env.REDIS_URL = redis.url;
      services.push({ name: 'redis-server', url: redis.url, stop: () => redis.stop() });
    }
    const replSetMembers = devReplSetMembers(env);
    if (!env.MONGODB_URL && replSetMembers !== undefined) {
      const rs = await startMongoReplicaSet({ members: replSetMembers, name: 'codebot' });
      env.MONGODB_URL = rs.uri('codebot');
      services.push({
        name: `MongoDB wire-protocol replica set (${replSetMembers} member${replSetMembers > 1 ? 's' : ''})`,
        url: env.MONGODB_URL,
        note: 'for local development only (MONGODB_DEV_REPLSET); set MONGODB_URL for a real server',
        stop: () => rs.stop(),
      });
    } else if (!env.MONGODB_URL) {
      const mongo = await startMongo({
        dbPrefix: 'codebot',
        env: {},
        log: (line) => logger.log(line),
      });
      env.MONGODB_URL = mongo.url;
      const wire = mongo.kind === 'wire';
      services.push({
        name: wire ? 'MongoDB wire-protocol server' : 'mongod (mongodb-memory-server)',
        url: mongo.url,
        ...(wire
          ? {
              note: 'for local development only: no mongod binary found; set MONGODB_URL for a real server',
            }
          : {}),
        stop: () => mongo.stop(),
      });
      if (wire) {
        logger.warn(
          'No mongod binary found: using the MongoDB wire-protocol server, which is for local development only. Set MONGODB_URL to use a real MongoDB.',
        );
      }
    }
    if (!env.TELEGRAM_API_URL) {
      const telegram = new TelegramStandIn(next.telegramBotToken);
      const url = await telegram.start();
      next = { ...next, telegramApiUrl: url };
      services.push({ name: 'Telegram Bot API stand-in', url, stop: () => telegram.close() });
    }
    if (!env.GITHUB_API_URL) {
      const githubToken = next.githubToken ?? DEVELOPMENT_GITHUB_TOKEN;
      const github = new GitHubStandIn({ token: githubToken });
      const url = await github.start();
      next = { ...next, githubApiUrl: url, githubToken };
      services.push({ name: 'GitHub gists stand-in', url, stop: () => github.close() });
    }
  } catch (error) {
    for (const service of services.reverse()) await service.stop().catch(() => undefined);
    throw error;
  }
  return { services, config: next };
}
