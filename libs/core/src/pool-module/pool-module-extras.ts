/**
 * Top-level options of every pool module's `forRoot` / `forRootAsync`, next to the pool options
 * and never produced by an async factory.
 */
export interface PoolModuleExtras {
  /**
   * Pool name: the key of its injection tokens, metrics labels (`pool_name`), health keys and log
   * context. Modules with different names are different pools and never merge.
   * @default 'default'
   */
  name: string;
  /**
   * Make the module's pool, services and health indicator injectable app-wide.
   * @default false
   */
  isGlobal: boolean;
}

/** Name of a pool created without an explicit `name`. */
export const DEFAULT_POOL_NAME = 'default';

/** Defaults of {@link PoolModuleExtras}. */
export const DEFAULT_POOL_MODULE_EXTRAS: Readonly<PoolModuleExtras> = Object.freeze({
  name: DEFAULT_POOL_NAME,
  isGlobal: false,
});
