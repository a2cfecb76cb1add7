import { ShutdownCoordinator } from '@nest-pools/core';
import { Inject, Injectable, Logger, type OnApplicationShutdown, Optional } from '@nestjs/common';

import { EMBEDDED_SERVICES, type EmbeddedService } from '../dev/embedded-services.js';

/**
 * Stops the development servers (Redis, Mongo, stand-ins) after the pools using them closed:
 * it waits for the coordinator's single `closeAll()` first, whatever order Nest calls hooks in.
 */
@Injectable()
export class EmbeddedShutdown implements OnApplicationShutdown {
  private readonly logger = new Logger('Embedded');

  constructor(
    @Inject(EMBEDDED_SERVICES) private readonly services: EmbeddedService[],
    @Optional() private readonly coordinator?: ShutdownCoordinator,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.services.length === 0) return;
    await this.coordinator?.closeAll();
    for (const service of [...this.services].reverse()) {
      await service.stop().catch((error: unknown) => {
        this.logger.warn(`Stopping ${service.name} failed: ${String(error)}`);
      });
    }
  }
}
