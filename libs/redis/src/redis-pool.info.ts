/** INFO fields a health check reports when asked for them. */
export const INFO_FIELDS = ['connected_clients', 'used_memory', 'keyspace_hits', 'keyspace_misses'];

/** The `field:value` lines of an INFO (or CLUSTER INFO) reply, restricted to `fields`. */
export function readInfoFields(text: string, fields: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at <= 0) continue;
    const key = line.slice(0, at);
    if (fields.includes(key)) out[key] = line.slice(at + 1).trim();
  }
  return out;
}
