/**
 * Whether a bound address is reachable from this machine alone: 127.0.0.0/8 and ::1, also as an
 * IPv4-mapped IPv6 address. A host name (`localhost`) is judged by the address it was bound to.
 */
export function isLoopback(address: string): boolean {
  const v4 = address.replace(/^::ffff:/i, '');
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4) || address === '::1';
}
