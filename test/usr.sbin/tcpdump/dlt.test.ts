import { test } from 'node:test';
import assert from 'node:assert/strict';

import { hex } from '../../../src/wire/bytes.js';
import {
  DLT_EN10MB,
  DLT_ENC,
  DLT_LOOP,
  DLT_NULL,
  DLT_PFLOG,
  DLT_RAW,
  LINKTYPE_ENC,
  LINKTYPE_ETHERNET,
  LINKTYPE_IPV4,
  LINKTYPE_IPV6,
  LINKTYPE_LOOP,
  LINKTYPE_NULL,
  LINKTYPE_PFLOG,
  LINKTYPE_RAW,
  dltDescription,
  dltFromName,
  dltName,
  dltToLinktype,
  linktypeString,
  linktypeToDlt,
  loopbackFamily,
} from '../../../src/usr.sbin/tcpdump/dlt.js';

test('OpenBSD DLT values and file LINKTYPE values', () => {
  assert.deepEqual([DLT_NULL, DLT_EN10MB, DLT_LOOP, DLT_ENC, DLT_RAW, DLT_PFLOG], [0, 1, 12, 13, 14, 117]);
  assert.deepEqual(
    [LINKTYPE_NULL, LINKTYPE_ETHERNET, LINKTYPE_RAW, LINKTYPE_LOOP, LINKTYPE_ENC, LINKTYPE_PFLOG, LINKTYPE_IPV4, LINKTYPE_IPV6],
    [0, 1, 101, 108, 109, 117, 228, 229],
  );
});

test('mapping between file link types and DLTs', () => {
  const pairs: [number, number][] = [
    [LINKTYPE_NULL, DLT_NULL],
    [LINKTYPE_ETHERNET, DLT_EN10MB],
    [LINKTYPE_RAW, DLT_RAW],
    [LINKTYPE_LOOP, DLT_LOOP],
    [LINKTYPE_ENC, DLT_ENC],
    [LINKTYPE_PFLOG, DLT_PFLOG],
  ];
  for (const [lt, dlt] of pairs) {
    assert.equal(linktypeToDlt(lt), dlt);
    assert.equal(dltToLinktype(dlt), lt);
  }
  assert.equal(linktypeToDlt(LINKTYPE_IPV4), DLT_RAW);
  assert.equal(linktypeToDlt(LINKTYPE_IPV6), DLT_RAW);
  // files written by OpenBSD's tcpdump carry the DLT itself (12 for lo0)
  assert.equal(linktypeToDlt(12), DLT_LOOP);
  assert.equal(linktypeToDlt(14), DLT_RAW);
  assert.equal(linktypeToDlt(147), 147);
});

test('names as OpenBSD libpcap and tcpdump print them', () => {
  assert.equal(dltName(DLT_EN10MB), 'EN10MB');
  assert.equal(dltDescription(DLT_EN10MB), 'Ethernet (10Mb)');
  assert.equal(dltName(DLT_LOOP), 'LOOP');
  assert.equal(dltName(DLT_ENC), 'ENC');
  assert.equal(dltName(DLT_RAW), 'RAW');
  assert.equal(dltName(DLT_NULL), 'NULL');
  assert.equal(dltName(DLT_PFLOG), 'PFLOG');
  assert.equal(dltName(999), undefined);
  assert.equal(linktypeString(DLT_EN10MB), 'EN10MB');
  assert.equal(linktypeString(999), '<unknown: 999>');
  assert.equal(dltFromName('en10mb'), DLT_EN10MB);
  assert.equal(dltFromName('pflog'), DLT_PFLOG);
  assert.equal(dltFromName('nonesuch'), -1);
});

test('address family of loopback headers', () => {
  // DLT_LOOP: network order; AF_INET6 is 24 on OpenBSD
  assert.equal(loopbackFamily(DLT_LOOP, hex('00000018 60'), 0, 5), 24);
  // DLT_NULL: the writer's order, either way round
  assert.equal(loopbackFamily(DLT_NULL, hex('02000000 45'), 0, 5), 2);
  assert.equal(loopbackFamily(DLT_NULL, hex('00000002 45'), 0, 5), 2);
  assert.equal(loopbackFamily(DLT_NULL, hex('000000'), 0, 3), -1);
});
