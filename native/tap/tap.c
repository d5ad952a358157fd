/*
 * A small N-API addon for packetflow's tap(4)-like attachment: open a Linux
 * TAP device (IFF_TAP | IFF_NO_PI: whole Ethernet frames, no packet-info
 * header) on a non-blocking fd, watch it with uv_poll and hand frames to
 * JavaScript in batches.  A blocking fs.read on the fd would keep a libuv
 * worker thread stuck and make process.exit() hang; uv_poll does not.
 *
 * JavaScript API:
 *   open(name)                 -> { fd, name }   (name may be "" or "pf%d")
 *   start(fd, buf, lens, cb)   -> handle         cb(n): frames 0..n-1 are in buf,
 *                                                back to back, lengths in lens
 *   write(fd, buf, off, len)   -> bytes written, or -errno (-EAGAIN: host queue full)
 *   stop(handle)                                 stop polling (closes nothing)
 *   close(fd)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <node_api.h>
#include <uv.h>

#define MAXFRAME 65550

struct tap_poll {
	uv_poll_t poll;
	napi_env env;
	int fd;
	int stopped;
	napi_ref cb;
	napi_ref buf_ref;
	napi_ref lens_ref;
	napi_async_context actx;
	uint8_t *buf;
	size_t buflen;
	uint32_t *lens;
	size_t nlens;
};

static napi_value throw_errno(napi_env env, const char *what, int err)
{
	char msg[256];
	snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
	napi_value m, e, code;
	napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
	napi_create_error(env, NULL, m, &e);
	napi_create_int32(env, err, &code);
	napi_set_named_property(env, e, "errno", code);
	napi_throw(env, e);
	return NULL;
}

static napi_value js_open(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1];
	char name[IFNAMSIZ] = "";
	size_t n = 0;
	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	if (argc >= 1)
		napi_get_value_string_utf8(env, argv[0], name, sizeof name, &n);
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return throw_errno(env, "open /dev/net/tun", errno);
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	memcpy(ifr.ifr_name, name, n < IFNAMSIZ - 1 ? n : IFNAMSIZ - 1);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int err = errno;
		close(fd);
		return throw_errno(env, "ioctl TUNSETIFF", err);
	}
	napi_value res, vfd, vname;
	napi_create_object(env, &res);
	napi_create_int32(env, fd, &vfd);
	napi_create_string_utf8(env, ifr.ifr_name, NAPI_AUTO_LENGTH, &vname);
	napi_set_named_property(env, res, "fd", vfd);
	napi_set_named_property(env, res, "name", vname);
	return res;
}

static void deliver(struct tap_poll *tp, uint32_t n)
{
	napi_env env = tp->env;
	napi_handle_scope scope;
	napi_value cb, global, arg, result;
	napi_open_handle_scope(env, &scope);
	napi_get_reference_value(env, tp->cb, &cb);
	napi_get_global(env, &global);
	napi_create_uint32(env, n, &arg);
	/* make_callback runs the microtasks afterwards, as a libuv callback would. */
	napi_make_callback(env, tp->actx, global, cb, 1, &arg, &result);
	napi_close_handle_scope(env, scope);
}

static void on_readable(uv_poll_t *h, int status, int events)
{
	struct tap_poll *tp = (struct tap_poll *)h->data;
	(void)events;
	if (tp->stopped)
		return;
	if (status < 0) {
		/* The device went away (its namespace was deleted): stop, or poll would spin. */
		uv_poll_stop(&tp->poll);
		return;
	}
	for (;;) {
		size_t pos = 0;
		uint32_t n = 0;
		int again = 0;
		while (n < tp->nlens && tp->buflen - pos >= MAXFRAME) {
			ssize_t r = read(tp->fd, tp->buf + pos, tp->buflen - pos);
			if (r < 0) {
				if (errno == EINTR)
					continue;
				if (errno != EAGAIN)
					uv_poll_stop(&tp->poll);
				again = 1;
				break;
			}
			tp->lens[n++] = (uint32_t)r;
			pos += (size_t)r;
		}
		if (n > 0)
			deliver(tp, n);
		if (again || tp->stopped)
			return;
	}
}

static void release(struct tap_poll *tp)
{
	napi_env env = tp->env;
	napi_delete_reference(env, tp->cb);
	napi_delete_reference(env, tp->buf_ref);
	napi_delete_reference(env, tp->lens_ref);
	napi_async_destroy(env, tp->actx);
}

/* References go only once libuv is done with the handle: stop() may be called from the callback. */
static void on_close(uv_handle_t *h)
{
	struct tap_poll *tp = (struct tap_poll *)h->data;
	release(tp);
	free(tp);
}

static napi_value js_start(napi_env env, napi_callback_info info)
{
	size_t argc = 4;
	napi_value argv[4];
	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	if (argc < 4) {
		napi_throw_type_error(env, NULL, "start(fd, buf, lens, cb)");
		return NULL;
	}
	int32_t fd;
	napi_get_value_int32(env, argv[0], &fd);
	napi_typedarray_type t1, t2;
	size_t len1, len2, off1, off2;
	void *d1, *d2;
	napi_value ab1, ab2;
	if (napi_get_typedarray_info(env, argv[1], &t1, &len1, &d1, &ab1, &off1) != napi_ok || t1 != napi_uint8_array ||
	    napi_get_typedarray_info(env, argv[2], &t2, &len2, &d2, &ab2, &off2) != napi_ok || t2 != napi_uint32_array) {
		napi_throw_type_error(env, NULL, "start: buf must be a Uint8Array, lens a Uint32Array");
		return NULL;
	}
	if (len1 < MAXFRAME || len2 < 1) {
		napi_throw_range_error(env, NULL, "start: buf too small");
		return NULL;
	}
	struct tap_poll *tp = calloc(1, sizeof *tp);
	if (tp == NULL)
		return throw_errno(env, "start", ENOMEM);
	tp->env = env;
	tp->fd = fd;
	tp->buf = d1;
	tp->buflen = len1;
	tp->lens = d2;
	tp->nlens = len2;
	napi_create_reference(env, argv[3], 1, &tp->cb);
	napi_create_reference(env, argv[1], 1, &tp->buf_ref);
	napi_create_reference(env, argv[2], 1, &tp->lens_ref);
	napi_value rname;
	napi_create_string_utf8(env, "packetflow:tap", NAPI_AUTO_LENGTH, &rname);
	napi_async_init(env, NULL, rname, &tp->actx);
	uv_loop_t *loop;
	napi_get_uv_event_loop(env, &loop);
	int err = uv_poll_init(loop, &tp->poll, fd);
	if (err == 0) {
		tp->poll.data = tp;
		err = uv_poll_start(&tp->poll, UV_READABLE, on_readable);
	}
	if (err != 0) {
		release(tp);
		free(tp);
		napi_throw_error(env, NULL, uv_strerror(err));
		return NULL;
	}
	napi_value ext;
	napi_create_external(env, tp, NULL, NULL, &ext);
	return ext;
}

static napi_value js_stop(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1];
	void *p = NULL;
	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	if (argc < 1 || napi_get_value_external(env, argv[0], &p) != napi_ok || p == NULL) {
		napi_throw_type_error(env, NULL, "stop(handle)");
		return NULL;
	}
	struct tap_poll *tp = p;
	if (!tp->stopped) {
		tp->stopped = 1;
		uv_poll_stop(&tp->poll);
		uv_close((uv_handle_t *)&tp->poll, on_close);
	}
	return NULL;
}

static napi_value js_write(napi_env env, napi_callback_info info)
{
	size_t argc = 4;
	napi_value argv[4];
	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	int32_t fd;
	uint32_t off, len;
	napi_typedarray_type t;
	size_t alen, aoff;
	void *d;
	napi_value ab;
	if (argc < 4 || napi_get_value_int32(env, argv[0], &fd) != napi_ok ||
	    napi_get_typedarray_info(env, argv[1], &t, &alen, &d, &ab, &aoff) != napi_ok || t != napi_uint8_array ||
	    napi_get_value_uint32(env, argv[2], &off) != napi_ok || napi_get_value_uint32(env, argv[3], &len) != napi_ok ||
	    (size_t)off + len > alen) {
		napi_throw_type_error(env, NULL, "write(fd, buf, off, len)");
		return NULL;
	}
	ssize_t r;
	do
		r = write(fd, (uint8_t *)d + off, len);
	while (r < 0 && errno == EINTR);
	napi_value res;
	napi_create_int32(env, r < 0 ? -errno : (int32_t)r, &res);
	return res;
}

static napi_value js_close(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1];
	int32_t fd;
	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	if (argc >= 1 && napi_get_value_int32(env, argv[0], &fd) == napi_ok && fd >= 0)
		close(fd);
	return NULL;
}

static napi_value init(napi_env env, napi_value exports)
{
	napi_property_descriptor d[] = {
		{ "open", NULL, js_open, NULL, NULL, NULL, napi_enumerable, NULL },
		{ "start", NULL, js_start, NULL, NULL, NULL, napi_enumerable, NULL },
		{ "stop", NULL, js_stop, NULL, NULL, NULL, napi_enumerable, NULL },
		{ "write", NULL, js_write, NULL, NULL, NULL, napi_enumerable, NULL },
		{ "close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL },
	};
	napi_define_properties(env, exports, sizeof d / sizeof d[0], d);
	return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
