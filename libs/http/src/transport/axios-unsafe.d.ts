// axios publishes its URL helpers under `axios/unsafe/*` for custom adapters, without typings.
declare module 'axios/unsafe/core/buildFullPath.js' {
  export default function buildFullPath(
    baseURL: string | undefined,
    requestedURL: string | undefined,
    allowAbsoluteUrls?: boolean,
    config?: unknown,
  ): string;
}

declare module 'axios/unsafe/helpers/buildURL.js' {
  export default function buildURL(url: string, params?: unknown, options?: unknown): string;
}

declare module 'axios/unsafe/core/setFormDataHeaders.js' {
  export default function setFormDataHeaders(
    headers: unknown,
    formHeaders: Record<string, string> | null | undefined,
    policy?: string,
  ): void;
}
