import type { PoolField } from '@nest-pools/core';
import { z } from 'zod';

/** What a proxy URL may look like: `http(s)://[user:password@]host[:port][/]`. */
const PROXY_URL_ALLOWED =
  'an http:// or https:// proxy URL (host and optional port, credentials as user:password@, no path)';

/** A proxy URL: http(s), a host, no path, query or fragment. Credentials are kept as given. */
export const proxyUrlSchema: z.ZodType<string> = z
  .string()
  .trim()
  .refine((text) => {
    if (!URL.canParse(text)) return false;
    const url = new URL(text);
    return (
      (url.protocol === 'http:' || url.protocol === 'https:') &&
      url.hostname !== '' &&
      (url.pathname === '/' || url.pathname === '') &&
      url.search === '' &&
      url.hash === ''
    );
  });

/** A standard proxy variable (`http_proxy`, `https_proxy`): a proxy URL under two names. */
export function proxyUrlField(
  env: string,
  alias: string,
  description: string,
): PoolField<string, undefined> {
  return {
    env,
    aliases: [alias],
    unit: 'url',
    default: undefined,
    allowed: PROXY_URL_ALLOWED,
    allowedOption: PROXY_URL_ALLOWED,
    description,
    fromEnv: proxyUrlSchema,
    fromOption: proxyUrlSchema,
  };
}

const DIRECT_WORDS = ['none', 'direct', 'off'];

/** `proxy` (`HTTP_PROXY_URL`): a URL, or `false` / `none` for "never a proxy, whatever the env says". */
export const proxyField: PoolField<string | false, undefined> = {
  env: 'HTTP_PROXY_URL',
  unit: 'url',
  default: undefined,
  allowed: `${PROXY_URL_ALLOWED}, or none to go direct whatever HTTP_PROXY / HTTPS_PROXY say`,
  allowedOption: `${PROXY_URL_ALLOWED}, or false to go direct whatever HTTP_PROXY / HTTPS_PROXY say`,
  description:
    "Proxy of this client, for http and https URLs alike (NO_PROXY still applies); wins over HTTP_PROXY / HTTPS_PROXY. 'none' = direct.",
  fromEnv: z.union([
    z
      .string()
      .trim()
      .toLowerCase()
      .refine((word) => DIRECT_WORDS.includes(word))
      .transform((): false => false),
    proxyUrlSchema,
  ]),
  fromOption: z.union([z.literal(false), proxyUrlSchema]),
};

// NO_PROXY is read leniently, as curl and undici read it: machines often carry entries undici
// never matches (CIDR ranges, bare IPv6), and refusing them would stop an app from starting.
const noProxyText = z
  .string()
  .trim()
  .transform((text) =>
    text
      .split(/[,\s]+/)
      .filter((entry) => entry !== '')
      .join(','),
  );

const NO_PROXY_ALLOWED =
  'host names, domains (example.com also matches its subdomains; .example.com and *.example.com too) and IP addresses, each with an optional :port, separated by commas or spaces; * = every host (CIDR ranges never match)';

/** `noProxy` (`no_proxy`, `NO_PROXY`): hosts that never go through a proxy (undici's rules). */
export const noProxyField: PoolField<string, undefined> = {
  env: 'no_proxy',
  aliases: ['NO_PROXY'],
  unit: 'list',
  default: undefined,
  allowed: NO_PROXY_ALLOWED,
  allowedOption: NO_PROXY_ALLOWED,
  description: 'Hosts that never go through a proxy.',
  fromEnv: noProxyText,
  fromOption: noProxyText,
};
