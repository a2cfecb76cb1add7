export * from './app-env.js';
export * from './collect-pool-config-issues.js';
export * from './config-explain.js';
export * from './config-issue.interface.js';
export * from './config-reference.js';
export {
  PoolConfigContext,
  type PoolConfigParseFlags,
  type PoolSpec,
  type PoolValueExplanation,
  type PoolValueOrigin,
  type UnsupportedPoolOption,
} from './pool-config-context.js';
export * from './pool-definition.js';
export * from './pool-env-names.js';
export {
  type AnyPoolField,
  booleanField,
  breakerEnabledField,
  breakerFailuresField,
  breakerHalfOpenField,
  countField,
  durationField,
  enumField,
  hostListField,
  type HostPort,
  listField,
  MAX_TIMER_MS,
  operationMetricsField,
  type PoolConfigOf,
  type PoolField,
  type PoolFields,
  type PoolFieldValue,
  poolMetricsField,
  type PoolOptionsOf,
  type PoolVariableMeta,
  type PoolVariableUnit,
  textField,
  urlField,
} from './pool-field.js';
export * from './readable-file.js';
