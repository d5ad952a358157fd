/**
 * errno values and strerror(3) texts of OpenBSD (sys/sys/errno.h), shared
 * by the kernel (return codes of ioctls, if_enqueue, ip_output) and the
 * tools (err(3)-style messages such as "ifconfig: SIOCSIFMTU: Invalid
 * argument").
 */

export const EPERM = 1;
export const ENOENT = 2;
export const ESRCH = 3;
export const EINTR = 4;
export const EIO = 5;
export const ENXIO = 6;
export const E2BIG = 7;
export const ENOEXEC = 8;
export const EBADF = 9;
export const ECHILD = 10;
export const EDEADLK = 11;
export const ENOMEM = 12;
export const EACCES = 13;
export const EFAULT = 14;
export const ENOTBLK = 15;
export const EBUSY = 16;
export const EEXIST = 17;
export const EXDEV = 18;
export const ENODEV = 19;
export const ENOTDIR = 20;
export const EISDIR = 21;
export const EINVAL = 22;
export const ENFILE = 23;
export const EMFILE = 24;
export const ENOTTY = 25;
export const ETXTBSY = 26;
export const EFBIG = 27;
export const ENOSPC = 28;
export const ESPIPE = 29;
export const EROFS = 30;
export const EMLINK = 31;
export const EPIPE = 32;
export const EDOM = 33;
export const ERANGE = 34;
export const EAGAIN = 35;
export const EINPROGRESS = 36;
export const EALREADY = 37;
export const ENOTSOCK = 38;
export const EDESTADDRREQ = 39;
export const EMSGSIZE = 40;
export const EPROTOTYPE = 41;
export const ENOPROTOOPT = 42;
export const EPROTONOSUPPORT = 43;
export const ESOCKTNOSUPPORT = 44;
export const EOPNOTSUPP = 45;
export const EPFNOSUPPORT = 46;
export const EAFNOSUPPORT = 47;
export const EADDRINUSE = 48;
export const EADDRNOTAVAIL = 49;
export const ENETDOWN = 50;
export const ENETUNREACH = 51;
export const ENETRESET = 52;
export const ECONNABORTED = 53;
export const ECONNRESET = 54;
export const ENOBUFS = 55;
export const EISCONN = 56;
export const ENOTCONN = 57;
export const ESHUTDOWN = 58;
export const ETOOMANYREFS = 59;
export const ETIMEDOUT = 60;
export const ECONNREFUSED = 61;
export const ELOOP = 62;
export const ENAMETOOLONG = 63;
export const EHOSTDOWN = 64;
export const EHOSTUNREACH = 65;
export const ENOTEMPTY = 66;
export const EPROCLIM = 67;
export const EUSERS = 68;
export const EDQUOT = 69;
export const ESTALE = 70;
export const EREMOTE = 71;
export const EBADRPC = 72;
export const ERPCMISMATCH = 73;
export const EPROGUNAVAIL = 74;
export const EPROGMISMATCH = 75;
export const EPROCUNAVAIL = 76;
export const ENOLCK = 77;
export const ENOSYS = 78;
export const EFTYPE = 79;
export const EAUTH = 80;
export const ENEEDAUTH = 81;
export const EIPSEC = 82;
export const ENOATTR = 83;
export const EILSEQ = 84;
export const ENOMEDIUM = 85;
export const EMEDIUMTYPE = 86;
export const EOVERFLOW = 87;
export const ECANCELED = 88;
export const EIDRM = 89;
export const ENOMSG = 90;
export const ENOTSUP = 91;
export const EBADMSG = 92;
export const ENOTRECOVERABLE = 93;
export const EOWNERDEAD = 94;
export const EPROTO = 95;
export const EWOULDBLOCK = EAGAIN;

const ERRLIST: Record<number, string> = {
  1: 'Operation not permitted',
  2: 'No such file or directory',
  3: 'No such process',
  4: 'Interrupted system call',
  5: 'Input/output error',
  6: 'Device not configured',
  7: 'Argument list too long',
  8: 'Exec format error',
  9: 'Bad file descriptor',
  10: 'No child processes',
  11: 'Resource deadlock avoided',
  12: 'Cannot allocate memory',
  13: 'Permission denied',
  14: 'Bad address',
  15: 'Block device required',
  16: 'Device busy',
  17: 'File exists',
  18: 'Cross-device link',
  19: 'Operation not supported by device',
  20: 'Not a directory',
  21: 'Is a directory',
  22: 'Invalid argument',
  23: 'Too many open files in system',
  24: 'Too many open files',
  25: 'Inappropriate ioctl for device',
  26: 'Text file busy',
  27: 'File too large',
  28: 'No space left on device',
  29: 'Illegal seek',
  30: 'Read-only file system',
  31: 'Too many links',
  32: 'Broken pipe',
  33: 'Numerical argument out of domain',
  34: 'Result too large',
  35: 'Resource temporarily unavailable',
  36: 'Operation now in progress',
  37: 'Operation already in progress',
  38: 'Socket operation on non-socket',
  39: 'Destination address required',
  40: 'Message too long',
  41: 'Protocol wrong type for socket',
  42: 'Protocol not available',
  43: 'Protocol not supported',
  44: 'Socket type not supported',
  45: 'Operation not supported',
  46: 'Protocol family not supported',
  47: 'Address family not supported by protocol family',
  48: 'Address already in use',
  49: 'Can\'t assign requested address',
  50: 'Network is down',
  51: 'Network is unreachable',
  52: 'Network dropped connection on reset',
  53: 'Software caused connection abort',
  54: 'Connection reset by peer',
  55: 'No buffer space available',
  56: 'Socket is already connected',
  57: 'Socket is not connected',
  58: 'Can\'t send after socket shutdown',
  59: 'Too many references: can\'t splice',
  60: 'Operation timed out',
  61: 'Connection refused',
  62: 'Too many levels of symbolic links',
  63: 'File name too long',
  64: 'Host is down',
  65: 'No route to host',
  66: 'Directory not empty',
  67: 'Too many processes',
  68: 'Too many users',
  69: 'Disk quota exceeded',
  70: 'Stale NFS file handle',
  71: 'Too many levels of remote in path',
  72: 'RPC struct is bad',
  73: 'RPC version wrong',
  74: 'RPC program not available',
  75: 'Program version wrong',
  76: 'Bad procedure for program',
  77: 'No locks available',
  78: 'Function not implemented',
  79: 'Inappropriate file type or format',
  80: 'Authentication error',
  81: 'Need authenticator',
  82: 'IPsec processing failure',
  83: 'Attribute not found',
  84: 'Illegal byte sequence',
  85: 'No medium found',
  86: 'Wrong medium type',
  87: 'Value too large to be stored in data type',
  88: 'Operation canceled',
  89: 'Identifier removed',
  90: 'No message of desired type',
  91: 'Not supported',
  92: 'Bad message',
  93: 'State not recoverable',
  94: 'Previous owner died',
  95: 'Protocol error',
};

/** strerror(3) */
export function strerror(errno: number): string {
  return ERRLIST[errno] ?? `Unknown error: ${errno}`;
}
