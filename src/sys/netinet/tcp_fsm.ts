/**
 * TCP finite state machine (sys/netinet/tcp_fsm.h): the states, their
 * names as netstat prints them, and tcp_outflags[], the flags tcp_output()
 * sends in each state.
 */
import { TH_ACK, TH_FIN, TH_RST, TH_SYN } from '../../wire/tcp.js';

export const TCP_NSTATES = 11;

export const TCPS_CLOSED = 0;
export const TCPS_LISTEN = 1;
export const TCPS_SYN_SENT = 2;
export const TCPS_SYN_RECEIVED = 3;
export const TCPS_ESTABLISHED = 4;
export const TCPS_CLOSE_WAIT = 5;
export const TCPS_FIN_WAIT_1 = 6;
export const TCPS_CLOSING = 7;
export const TCPS_LAST_ACK = 8;
export const TCPS_FIN_WAIT_2 = 9;
export const TCPS_TIME_WAIT = 10;

export function TCPS_HAVERCVDSYN(s: number): boolean {
  return s >= TCPS_SYN_RECEIVED;
}
export function TCPS_HAVEESTABLISHED(s: number): boolean {
  return s >= TCPS_ESTABLISHED;
}
export function TCPS_HAVERCVDFIN(s: number): boolean {
  return s >= TCPS_TIME_WAIT;
}

/** tcp_outflags[] */
export const tcp_outflags: readonly number[] = [
  TH_RST | TH_ACK, 0, TH_SYN, TH_SYN | TH_ACK,
  TH_ACK, TH_ACK,
  TH_FIN | TH_ACK, TH_FIN | TH_ACK, TH_FIN | TH_ACK, TH_ACK, TH_ACK,
];

/** tcpstates[]: the names netstat prints. */
export const tcpstates: readonly string[] = [
  'CLOSED', 'LISTEN', 'SYN_SENT', 'SYN_RCVD',
  'ESTABLISHED', 'CLOSE_WAIT', 'FIN_WAIT_1', 'CLOSING',
  'LAST_ACK', 'FIN_WAIT_2', 'TIME_WAIT',
];
