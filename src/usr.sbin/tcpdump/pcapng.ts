/**
 * pcapng constants (draft-ietf-opsawg-pcapng).  The reader lives in pcap.ts
 * next to the libpcap one, because both share its chunked input buffer.
 *
 * Every block is: type (32), total length (32, a multiple of 4, at least
 * 12), body, total length again.  Integers are in the byte order of the
 * enclosing section, given by the byte-order magic of its Section Header
 * Block; the SHB type itself is a palindrome so it reads the same either way.
 */

export const PCAPNG_BT_SHB = 0x0a0d0d0a; // Section Header Block
export const PCAPNG_BT_IDB = 0x00000001; // Interface Description Block
export const PCAPNG_BT_PB = 0x00000002; // Packet Block (obsolete)
export const PCAPNG_BT_SPB = 0x00000003; // Simple Packet Block
export const PCAPNG_BT_NRB = 0x00000004; // Name Resolution Block
export const PCAPNG_BT_ISB = 0x00000005; // Interface Statistics Block
export const PCAPNG_BT_EPB = 0x00000006; // Enhanced Packet Block
export const PCAPNG_BT_DSB = 0x0000000a; // Decryption Secrets Block

export const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;
export const PCAPNG_VERSION_MAJOR = 1;
export const PCAPNG_VERSION_MINOR = 0;

/** Smallest legal block: type, length, trailing length. */
export const PCAPNG_BLOCK_MIN = 12;
/** Smallest legal block of each kind we decode (fixed fields + framing). */
export const PCAPNG_SHB_MIN = 28;
export const PCAPNG_IDB_MIN = 20;
export const PCAPNG_EPB_MIN = 32;
export const PCAPNG_PB_MIN = 32;
export const PCAPNG_SPB_MIN = 16;

// Options common to all blocks.
export const PCAPNG_OPT_ENDOFOPT = 0;
export const PCAPNG_OPT_COMMENT = 1;

// Interface Description Block options.
export const PCAPNG_IF_NAME = 2;
export const PCAPNG_IF_DESCRIPTION = 3;
export const PCAPNG_IF_TSRESOL = 9;
export const PCAPNG_IF_TSOFFSET = 14;

/** if_tsresol: high bit set means a power of 2, clear a power of 10. */
export const PCAPNG_TSRESOL_BINARY = 0x80;
/** Default if_tsresol (microseconds, as libpcap files). */
export const PCAPNG_TSRESOL_DEFAULT = 6;
