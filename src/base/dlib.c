#include "base/dlib.h"

#include <dlfcn.h>
#include <errno.h>

int dlib_open(void **handle, const char *soname, const char *package, const struct dlib_sym *syms, size_t n,
	      struct strbuf *err)
{
	void *h, *addr[64];

	if (n > sizeof(addr) / sizeof(addr[0])) {
		strbuf_addf(err, "cannot load %s: %zu symbols asked for - at most %zu", soname, n,
			    sizeof(addr) / sizeof(addr[0]));
		return -E2BIG;
	}
	dlerror();
	h = dlopen(soname, RTLD_NOW | RTLD_NODELETE);
	if (!h) {
		const char *why = dlerror();

		strbuf_addf(err, "cannot load %s - install the Debian package %s (%s)", soname, package,
			    why ? why : "not found");
		return -ENOENT;
	}
	/* all or nothing: resolve into a scratch table first */
	for (size_t i = 0; i < n; i++) {
		addr[i] = dlsym(h, syms[i].name);
		if (!addr[i]) {
			strbuf_addf(err, "cannot load %s: it has no %s - install a newer %s", soname, syms[i].name,
				    package);
			dlclose(h);
			return -ENOSYS;
		}
	}
	for (size_t i = 0; i < n; i++)
		memcpy(syms[i].slot, &addr[i], sizeof(addr[i]));
	*handle = h;
	return 0;
}
