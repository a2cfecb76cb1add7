import { ConfigurableModuleBuilder } from '@nestjs/common';

import type { ShutdownModuleOptions } from './interfaces/shutdown-module-options.interface.js';

/** Generated base class, options token and option types of {@link ShutdownModule}. */
export const {
  ConfigurableModuleClass: ShutdownConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: SHUTDOWN_MODULE_OPTIONS,
  OPTIONS_TYPE: SHUTDOWN_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: SHUTDOWN_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<ShutdownModuleOptions>({ moduleName: 'Shutdown' })
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: true }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
  }))
  .build();
