import { type DynamicModule, Module } from '@nestjs/common';

import { ReadinessState } from './readiness-state.js';
import {
  SHUTDOWN_ASYNC_OPTIONS_TYPE,
  SHUTDOWN_OPTIONS_TYPE,
  ShutdownConfigurableModuleClass,
} from './shutdown.module-definition.js';
import { ShutdownCoordinator } from './shutdown-coordinator.js';

/**
 * Graceful shutdown for an application and its pools: provides {@link ReadinessState} and
 * {@link ShutdownCoordinator}. Import it once, in the root module, and call
 * `app.enableShutdownHooks()` so SIGTERM/SIGINT run Nest's shutdown sequence (the module adds no
 * signal handlers of its own; Nest's are the single source of truth).
 *
 * Global by default (`isGlobal: true`): the pool modules inject the coordinator with
 * `@Optional()` and register their pools with it, and they cannot import this module themselves,
 * because there must be exactly one coordinator per application, configured by the application.
 * Without `ShutdownModule` every pool still closes itself in `onApplicationShutdown`.
 *
 * @example
 * ```ts
 * @Module({
 *   imports: [
 *     ShutdownModule.forRoot({
 *       drainDelayMs: 5000,
 *       timeoutMs: 25_000,
 *       onDeadline: () => {
 *         process.exitCode = 1;
 *         process.exit();
 *       },
 *     }),
 *     RedisPoolModule.forRootAsync(),
 *   ],
 * })
 * export class AppModule {}
 *
 * // main.ts
 * const app = await NestFactory.create(AppModule);
 * app.enableShutdownHooks();
 * await app.listen(3000);
 * app.get(ReadinessState).markReady();
 * ```
 */
@Module({
  providers: [ReadinessState, ShutdownCoordinator],
  exports: [ReadinessState, ShutdownCoordinator],
})
export class ShutdownModule extends ShutdownConfigurableModuleClass {
  /**
   * Registers the module with fixed options; every option has a default, so `forRoot()` works.
   */
  static override forRoot(options: typeof SHUTDOWN_OPTIONS_TYPE = {}): DynamicModule {
    return super.forRoot(options);
  }

  /**
   * Registers the module with options from a factory, class or existing provider, e.g. to read
   * `SHUTDOWN_DRAIN_DELAY_MS` through `ConfigService`.
   */
  static override forRootAsync(options: typeof SHUTDOWN_ASYNC_OPTIONS_TYPE): DynamicModule {
    return super.forRootAsync(options);
  }
}
