// mgts-rng on the desktop simulator (see rng.js): bytes from the OS's
// cryptographic generator. Only the Linux branch has been built and run.
#include "xsmc.h"
#include "xsHost.h"
#if defined(__linux__)
	#include <sys/random.h>
	#include <errno.h>
#elif defined(__APPLE__)
	#include <stdlib.h>
#elif defined(_WIN32)
	#define _CRT_RAND_S
	#include <stdlib.h>
#endif

static int os_random(uint8_t *p, size_t n)
{
#if defined(__linux__)
	while (n > 0) {
		ssize_t got = getrandom(p, n, 0);
		if (got < 0) {
			if (errno == EINTR) continue;
			return -1;
		}
		p += got;
		n -= (size_t)got;
	}
	return 0;
#elif defined(__APPLE__)
	arc4random_buf(p, n);
	return 0;
#elif defined(_WIN32)
	while (n > 0) {
		unsigned int v;
		if (rand_s(&v) != 0) return -1;
		for (int i = 0; i < 4 && n > 0; i++, n--) *p++ = (uint8_t)(v >> (8 * i));
	}
	return 0;
#else
	#error "mgts-rng: no cryptographic generator for this host"
#endif
}

void xs_mgts_rng_fill(xsMachine *the)
{
	void *data;
	xsUnsignedValue size;
	xsIntegerValue ofs = xsmcToInteger(xsArg(1));
	xsIntegerValue len = xsmcToInteger(xsArg(2));
	xsmcGetBufferWritable(xsArg(0), &data, &size);
	if ((ofs < 0) || (len < 0) || ((xsUnsignedValue)ofs > size) || ((xsUnsignedValue)len > size - (xsUnsignedValue)ofs))
		xsRangeError("mgts-rng: out of the buffer");
	if (os_random((uint8_t *)data + ofs, (size_t)len) != 0)
		xsUnknownError("mgts-rng: the OS's generator failed");
}
