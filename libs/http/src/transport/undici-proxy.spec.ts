import { axiosProxyUrl, maskProxyUrl, proxyRoutes } from './undici-proxy.js';

describe('proxy routes of a client', () => {
  it('gives the explicit proxy to http and https alike, keeping noProxy', () => {
    expect(
      proxyRoutes({ proxy: 'http://p:1', httpProxy: 'http://h:1', noProxy: 'localhost' }),
    ).toEqual({ httpProxy: 'http://p:1', httpsProxy: 'http://p:1', noProxy: 'localhost' });
  });

  it('uses the standard variables otherwise, leaving the https fallback to undici', () => {
    expect(proxyRoutes({ httpProxy: 'http://h:1' })).toEqual({
      httpProxy: 'http://h:1',
      httpsProxy: '',
      noProxy: '',
    });
    expect(proxyRoutes({ httpsProxy: 'http://s:1' })).toEqual({
      httpProxy: '',
      httpsProxy: 'http://s:1',
      noProxy: '',
    });
  });

  it('has no routes with proxy: false or nothing set', () => {
    expect(proxyRoutes({ proxy: false, httpProxy: 'http://h:1' })).toBeUndefined();
    expect(proxyRoutes({ noProxy: '*' })).toBeUndefined();
  });
});

describe('maskProxyUrl', () => {
  it('masks user and password, and drops a trailing slash', () => {
    expect(maskProxyUrl('http://bot:s3cret@proxy:3128/')).toBe('http://***:***@proxy:3128');
    expect(maskProxyUrl('https://token@proxy')).toBe('https://***:***@proxy');
    expect(maskProxyUrl('http://proxy:3128/')).toBe('http://proxy:3128');
  });
});

describe('axiosProxyUrl', () => {
  it('builds the URL of axios proxy objects, credentials URL-encoded', () => {
    expect(
      axiosProxyUrl({
        protocol: 'http:',
        host: 'proxy',
        port: 3128,
        auth: { username: 'b@t', password: 'p:w' },
      }),
    ).toBe('http://b%40t:p%3Aw@proxy:3128/');
    expect(axiosProxyUrl({ host: '::1', port: 8080 })).toBe('http://[::1]:8080/');
    expect(axiosProxyUrl({ protocol: 'HTTPS', host: 'proxy', port: 443 })).toBe('https://proxy/');
  });

  it('refuses other shapes', () => {
    expect(axiosProxyUrl({ host: '', port: 1 })).toBeUndefined();
    expect(axiosProxyUrl({ host: 'proxy', port: 0 })).toBeUndefined();
    expect(axiosProxyUrl({ protocol: 'socks5', host: 'proxy', port: 1080 })).toBeUndefined();
  });
});
