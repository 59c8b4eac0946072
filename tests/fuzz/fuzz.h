/*
 * FUZZ_TARGET(name) { ... } defines a fuzz harness. Built with
 * -DPKGFLAT_LIBFUZZER it is libFuzzer's entry point (make fuzz); otherwise it
 * registers itself with the replay driver, which runs every file under
 * tests/fuzz/corpus/<name>/ through it in `make check`.
 */
#ifndef PKGFLAT_FUZZ_H
#define PKGFLAT_FUZZ_H

#include <stddef.h>
#include <stdint.h>

typedef int (*fuzz_fn)(const uint8_t *data, size_t size);
void fuzz_register(const char *name, fuzz_fn fn);

#ifdef PKGFLAT_LIBFUZZER
#define FUZZ_TARGET(name)                                                 \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);     \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
#else
#define FUZZ_TARGET(name)                                                 \
	static int fuzz_##name(const uint8_t *data, size_t size);         \
	__attribute__((constructor)) static void fuzz_reg_##name(void)    \
	{                                                                 \
		fuzz_register(#name, fuzz_##name);                        \
	}                                                                 \
	static int fuzz_##name(const uint8_t *data, size_t size)
#endif

#endif
