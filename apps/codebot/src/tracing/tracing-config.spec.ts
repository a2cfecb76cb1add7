import { parseTracingConfig } from './tracing-config.js';

describe('parseTracingConfig', () => {
  it('is off without an endpoint, whatever else is set', () => {
    expect(parseTracingConfig({})).toEqual({ issues: [] });
    expect(
      parseTracingConfig({ OTEL_SERVICE_NAME: 'x', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }),
    ).toEqual({ issues: [] });
  });

  it('posts to <endpoint>/v1/traces over http/protobuf as "codebot" by default', () => {
    expect(parseTracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' })).toEqual({
      issues: [],
      settings: {
        tracesUrl: 'http://collector:4318/v1/traces',
        protocol: 'http/protobuf',
        serviceName: 'codebot',
      },
    });
  });

  it('takes the traces endpoint as given, the traces protocol over the general one, the service name', () => {
    expect(
      parseTracingConfig({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://ignored:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://otel.example/custom/traces',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
        OTEL_SERVICE_NAME: ' bot ',
      }).settings,
    ).toEqual({
      tracesUrl: 'https://otel.example/custom/traces',
      protocol: 'http/json',
      serviceName: 'bot',
    });
  });

  it('is off with OTEL_SDK_DISABLED=true even with an endpoint', () => {
    expect(
      parseTracingConfig({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_SDK_DISABLED: 'TRUE',
      }),
    ).toEqual({ issues: [] });
    expect(
      parseTracingConfig({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_SDK_DISABLED: 'false',
      }).settings?.tracesUrl,
    ).toBe('http://collector:4318/v1/traces');
  });

  it('reports every bad variable at once and starts nothing', () => {
    const { settings, issues } = parseTracingConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'not a url',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http',
      OTEL_SDK_DISABLED: 'yes',
      OTEL_SERVICE_NAME: '  ',
    });
    expect(settings).toBeUndefined();
    expect(issues.map((i) => i.variable).sort()).toEqual([
      'OTEL_EXPORTER_OTLP_ENDPOINT',
      'OTEL_EXPORTER_OTLP_PROTOCOL',
      'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
      'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL',
      'OTEL_SDK_DISABLED',
      'OTEL_SERVICE_NAME',
    ]);
    expect(issues.find((i) => i.variable === 'OTEL_EXPORTER_OTLP_ENDPOINT')).toEqual({
      variable: 'OTEL_EXPORTER_OTLP_ENDPOINT',
      given: 'collector:4318',
      allowed: expect.stringContaining('an http:// or https:// URL') as string,
    });
  });
});
