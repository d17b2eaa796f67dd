import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { parseEndpointUrl, type EndpointParts } from './connector-rules.js';

/**
 * Where connectors may send requests (server-side request forgery defence). A connector endpoint is chosen by a
 * tenant, so before every call Tenantry checks the addresses the host resolves to: loopback, private,
 * link-local, shared (CGNAT), unspecified, multicast, reserved and cloud-metadata addresses are refused, also
 * when embedded in an IPv6 address (IPv4-mapped, NAT64, 6to4), unless the operator lists the host, the address
 * or its network in `CONNECTOR_ALLOWED_HOSTS`. In production only `https:` endpoints are called.
 */

/** Why an address is not public, or undefined for a public one. */
export type AddressClass =
  | 'cloud metadata'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'shared (CGNAT)'
  | 'unspecified'
  | 'multicast'
  | 'reserved';

/** A connector endpoint that policy refuses. The message is safe to show the tenant (no resolved addresses). */
export class EndpointRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EndpointRefusedError';
  }
}

/** A parsed address (ipaddr.js), and a network as ipaddr.js gives it: an address and a prefix length. */
type Address = ipaddr.IPv4 | ipaddr.IPv6;
type Cidr = [Address, number];

/**
 * An address (given by `isIP` or the resolver, so already well-formed; an IPv6 zone is ignored). ipaddr.js reads
 * any IPv6 address ending in a dotted quad as IPv4-mapped (`::127.0.0.1` as `::ffff:127.0.0.1`), so the quad is
 * rewritten as its two hex groups first: the deprecated IPv4-compatible form stays what it is (refused as reserved).
 */
function parseAddress(ip: string): Address {
  const text = ip.split('%')[0];
  const quad = /^(.*:)(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (!quad) return ipaddr.parse(text);
  const [a, b, c, d] = quad.slice(2).map(Number);
  return ipaddr.parse(`${quad[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`);
}

/** A network (`10.0.0.0/8`) or one address (`192.0.2.1`, a /32 or /128). */
function cidr(text: string): Cidr {
  const [address, bits] = text.split('/');
  if (isIP(address) === 0) throw new Error(`Not a network: ${text}`);
  if (bits !== undefined) return ipaddr.parseCIDR(text);
  const parsed = parseAddress(address);
  return [parsed, parsed.kind() === 'ipv4' ? 32 : 128];
}

/** Whether `address` lies in `net` (an address never lies in a network of the other family). */
function inCidr(address: Address, net: Cidr): boolean {
  return address.kind() === net[0].kind() && address.match(net);
}

const table = (rows: [string, AddressClass][]) => rows.map(([net, label]) => ({ net: cidr(net), label }));

/** Checked first: instance metadata services (AWS, GCP, Azure, ECS, Alibaba, Oracle). */
const METADATA = table([
  ['169.254.169.254', 'cloud metadata'],
  ['169.254.169.253', 'cloud metadata'],
  ['169.254.170.2', 'cloud metadata'],
  ['100.100.100.200', 'cloud metadata'],
  ['192.0.0.192', 'cloud metadata'],
  ['fd00:ec2::254', 'cloud metadata'],
  ['fd00:ec2::253', 'cloud metadata'],
]);

const IPV4 = table([
  ['0.0.0.0/8', 'unspecified'],
  ['10.0.0.0/8', 'private'],
  ['100.64.0.0/10', 'shared (CGNAT)'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local'],
  ['172.16.0.0/12', 'private'],
  ['192.0.0.0/24', 'reserved'],
  ['192.0.2.0/24', 'reserved'],
  ['192.88.99.0/24', 'reserved'],
  ['192.168.0.0/16', 'private'],
  ['198.18.0.0/15', 'reserved'],
  ['198.51.100.0/24', 'reserved'],
  ['203.0.113.0/24', 'reserved'],
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved'],
]);

const IPV6 = table([
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['64:ff9b:1::/48', 'private'],
  ['100::/64', 'reserved'],
  ['2001::/32', 'reserved'],
  ['2001:db8::/32', 'reserved'],
  ['fc00::/7', 'private'],
  ['fe80::/10', 'link-local'],
  ['fec0::/10', 'reserved'],
  ['ff00::/8', 'multicast'],
]);

/** IPv6 ranges that carry an IPv4 address, and where it sits. */
const EMBEDDED_V4: { net: Cidr; at: number }[] = [
  { net: cidr('::ffff:0:0/96'), at: 12 }, // IPv4-mapped
  { net: cidr('64:ff9b::/96'), at: 12 }, // NAT64
  { net: cidr('2002::/16'), at: 2 }, // 6to4
];
const IPV4_COMPATIBLE = cidr('::/96');

function classify(address: Address): AddressClass | undefined {
  for (const row of METADATA) if (inCidr(address, row.net)) return row.label;
  if (address.kind() === 'ipv4') return IPV4.find((row) => inCidr(address, row.net))?.label;
  for (const { net, at } of EMBEDDED_V4) {
    if (inCidr(address, net)) return classify(ipaddr.fromByteArray(address.toByteArray().slice(at, at + 4)));
  }
  const own = IPV6.find((row) => inCidr(address, row.net))?.label;
  if (own) return own;
  // Deprecated IPv4-compatible addresses (::a.b.c.d): never a legitimate destination.
  if (inCidr(address, IPV4_COMPATIBLE)) return 'reserved';
  return undefined;
}

/** Why `ip` is not a public unicast address, or undefined when it is. Throws on something that is not an IP. */
export function classifyAddress(ip: string): AddressClass | undefined {
  if (isIP(ip) === 0) throw new Error(`Not an IP address: ${ip}`);
  return classify(parseAddress(ip));
}

/** Names that must never be resolved for a tenant: loopback names (RFC 6761) and metadata services. */
function blockedName(hostname: string): AddressClass | undefined {
  if (hostname === 'localhost' || hostname.endsWith('.localhost')) return 'loopback';
  if (
    [
      'metadata',
      'metadata.google.internal',
      'metadata.goog',
      'instance-data',
      'instance-data.ec2.internal',
    ].includes(hostname)
  ) {
    return 'cloud metadata';
  }
  return undefined;
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

export interface AddressPolicyOptions {
  /** Host names, IP addresses or CIDR networks that may be called although they are not public. */
  allowedHosts: readonly string[];
  requireHttps: boolean;
}

/** The outbound policy of one process (built from configuration). */
export class AddressPolicy {
  private readonly names = new Set<string>();
  private readonly networks: Cidr[] = [];

  constructor(private readonly options: AddressPolicyOptions) {
    for (const raw of options.allowedHosts) {
      let entry = raw.trim().toLowerCase();
      if (entry.startsWith('[') && entry.endsWith(']')) entry = entry.slice(1, -1);
      if (entry === '') continue;
      const [address] = entry.split('/');
      if (isIP(address) !== 0) this.networks.push(cidr(entry));
      else this.names.add(entry.replace(/\.$/, ''));
    }
  }

  private addressAllowed(ip: string): boolean {
    const address = parseAddress(ip);
    return this.networks.some((net) => inCidr(address, net));
  }

  /**
   * The checks that need no DNS: URL syntax, the scheme (https in production), IP literals and names that are
   * never public. Used when a connector is written and again before every call. Throws `EndpointRefusedError`.
   */
  checkUrl(raw: string): EndpointParts & { ip: ResolvedAddress | undefined } {
    const parsed = parseEndpointUrl(raw);
    if ('error' in parsed) throw new EndpointRefusedError(parsed.error);
    if (this.options.requireHttps && parsed.url.protocol !== 'https:') {
      throw new EndpointRefusedError('endpointUrl must use https');
    }
    const family = isIP(parsed.hostname);
    const ip = family === 0 ? undefined : { address: parsed.hostname, family: family as 4 | 6 };
    if (!this.names.has(parsed.hostname)) {
      const why = ip ? classifyAddress(ip.address) : blockedName(parsed.hostname);
      if (why && !(ip && this.addressAllowed(ip.address))) {
        throw new EndpointRefusedError(refusal(why));
      }
    }
    return { ...parsed, ip };
  }

  /**
   * Checks every address a host name resolved to (one non-public address refuses the whole name, so a
   * DNS answer cannot mix a public decoy with an internal target) and returns the one to connect to.
   */
  pickAddress(hostname: string, addresses: readonly ResolvedAddress[]): ResolvedAddress {
    if (addresses.length === 0) throw new EndpointRefusedError('endpoint host has no address');
    if (!this.names.has(hostname)) {
      for (const a of addresses) {
        const why = classifyAddress(a.address);
        if (why && !this.addressAllowed(a.address)) {
          throw new EndpointRefusedError(
            `endpoint host resolves to ${article(why)} ${why} address; ${ALLOW_HINT}`,
          );
        }
      }
    }
    return addresses[0];
  }
}

/** Names the setting, so whoever meets the refusal knows what the operator changes. */
export const ALLOW_HINT =
  'connectors may only call public addresses unless the operator lists the host (or its address or network) in CONNECTOR_ALLOWED_HOSTS';

function article(label: string): string {
  return /^[aeiou]/.test(label) ? 'an' : 'a';
}

function refusal(why: AddressClass): string {
  return `endpoint host is ${article(why)} ${why} address; ${ALLOW_HINT}`;
}
