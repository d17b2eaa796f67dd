import { describe, expect, it } from 'vitest';
import { AddressPolicy, classifyAddress, EndpointRefusedError } from './address-policy.js';

describe('address classification', () => {
  const cases: [string, string | undefined][] = [
    ['8.8.8.8', undefined],
    ['93.184.216.34', undefined],
    ['2606:4700:4700::1111', undefined],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['::1', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', undefined],
    ['192.168.1.1', 'private'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['169.254.1.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['100.64.0.1', 'shared (CGNAT)'],
    ['100.127.255.255', 'shared (CGNAT)'],
    ['169.254.169.254', 'cloud metadata'],
    ['fd00:ec2::254', 'cloud metadata'],
    ['100.100.100.200', 'cloud metadata'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['2001:db8::1', 'reserved'],
    // IPv4 embedded in IPv6
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'cloud metadata'],
    ['::ffff:10.1.2.3', 'private'],
    ['::ffff:8.8.8.8', undefined],
    ['64:ff9b::a00:1', 'private'],
    ['64:ff9b::808:808', undefined],
    ['2002:7f00:1::', 'loopback'],
    ['2002:0808:0808::1', undefined],
    ['::127.0.0.1', 'reserved'],
  ];
  for (const [ip, expected] of cases) {
    it(`${ip} → ${expected ?? 'public'}`, () => {
      expect(classifyAddress(ip)).toBe(expected);
    });
  }
});

describe('address policy', () => {
  const strict = new AddressPolicy({ allowedHosts: [], requireHttps: false });

  it('refuses non-public IP literals and loopback or metadata names before any DNS', () => {
    for (const url of [
      'http://127.0.0.1/',
      'http://127.1/',
      'http://2130706433/',
      'http://0x7f.0.0.1/',
      'http://0.0.0.0/',
      'http://[::1]/',
      'http://[::ffff:127.0.0.1]/',
      'http://10.0.0.1/',
      'http://169.254.169.254/latest/meta-data/',
      'http://[fd00:ec2::254]/',
      'http://localhost:8080/',
      'http://LOCALHOST./',
      'http://api.localhost/',
      'http://metadata.google.internal/computeMetadata/v1/',
    ]) {
      expect(() => strict.checkUrl(url), url).toThrow(EndpointRefusedError);
      // The refusal names the setting that would allow it.
      expect(() => strict.checkUrl(url), url).toThrow(/CONNECTOR_ALLOWED_HOSTS/);
    }
    expect(strict.checkUrl('http://api.example.com/x').hostname).toBe('api.example.com');
    expect(strict.checkUrl('https://8.8.8.8/').ip).toEqual({ address: '8.8.8.8', family: 4 });
  });

  it('refuses bad schemes and, in production, plain http', () => {
    expect(() => strict.checkUrl('file:///etc/passwd')).toThrow(/http or https/);
    expect(() => strict.checkUrl('javascript:alert(1)')).toThrow(/http or https/);
    const production = new AddressPolicy({ allowedHosts: [], requireHttps: true });
    expect(() => production.checkUrl('http://api.example.com/')).toThrow(/https/);
    expect(production.checkUrl('https://api.example.com/').hostname).toBe('api.example.com');
  });

  it('refuses a name when any resolved address is not public', () => {
    const pub = { address: '93.184.216.34', family: 4 as const };
    expect(strict.pickAddress('api.example.com', [pub])).toEqual(pub);
    expect(() =>
      strict.pickAddress('rebind.example.com', [pub, { address: '127.0.0.1', family: 4 }]),
    ).toThrow(/loopback/);
    expect(() => strict.pickAddress('x.example.com', [{ address: '::ffff:10.0.0.1', family: 6 }])).toThrow(
      /private/,
    );
    expect(() => strict.pickAddress('x.example.com', [])).toThrow(EndpointRefusedError);
    // The refusal never names the internal address it found.
    try {
      strict.pickAddress('x.example.com', [{ address: '10.9.8.7', family: 4 }]);
    } catch (e) {
      expect((e as Error).message).not.toContain('10.9.8.7');
    }
  });

  it('lets the operator allow hosts, addresses and networks', () => {
    const policy = new AddressPolicy({
      allowedHosts: ['localhost', '127.0.0.1', '::1', '10.20.0.0/16', 'Internal.Corp.'],
      requireHttps: false,
    });
    expect(policy.checkUrl('http://localhost:3000/').hostname).toBe('localhost');
    expect(policy.checkUrl('http://127.0.0.1:3000/').ip?.address).toBe('127.0.0.1');
    expect(policy.checkUrl('http://[::1]:3000/').ip?.address).toBe('::1');
    expect(policy.checkUrl('http://[0:0:0:0:0:0:0:1]:3000/').ip?.address).toBe('::1');
    expect(policy.checkUrl('http://10.20.3.4/').hostname).toBe('10.20.3.4');
    expect(() => policy.checkUrl('http://10.21.0.1/')).toThrow(/private/);
    expect(() => policy.checkUrl('http://127.0.0.2/')).toThrow(/loopback/);
    expect(policy.pickAddress('internal.corp', [{ address: '10.99.0.1', family: 4 }]).address).toBe(
      '10.99.0.1',
    );
    expect(policy.pickAddress('svc.example.com', [{ address: '10.20.0.9', family: 4 }]).address).toBe(
      '10.20.0.9',
    );
    expect(() => policy.pickAddress('svc.example.com', [{ address: '10.30.0.9', family: 4 }])).toThrow();
  });
});
