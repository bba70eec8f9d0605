import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isLoopback } from '../../src/server/loopback.js';

test('127.0.0.0/8 and ::1 are loopback, also IPv4-mapped; any other address, the unspecified ones too, is not', () => {
  for (const address of ['127.0.0.1', '127.0.0.5', '127.255.255.254', '::1', '::ffff:127.0.0.1', '::FFFF:127.1.2.3']) assert.ok(isLoopback(address), address);
  for (const address of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.127', '128.0.0.1', '::ffff:10.0.0.1', 'fe80::1', '::2']) assert.not.ok(isLoopback(address), address);
});

test.run();
